// The error a function provider throws on purpose, with a code the HTTP layers map to a
// status. Shared because two sides read it: the gateway's backends throw it (and its
// /system/* API maps it), and the dashboard, mounted on the gateway, maps the same codes.

export type ProviderErrorCode = 'invalid' | 'not_found' | 'conflict' | 'image' | 'timeout' | 'unavailable';

/** The only error a provider throws on purpose; the HTTP layer maps code to a status. */
export class ProviderError extends Error {
  override name = 'ProviderError';
  constructor(
    readonly code: ProviderErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

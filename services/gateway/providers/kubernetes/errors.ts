// The API server's answers as the contract's error codes, with the server's own reason in
// the message: 404 not_found, 409 conflict, 422 invalid (with the field causes), and an
// unreachable server unavailable.
import { ApiException } from '@kubernetes/client-node';
import { ProviderError } from '../provider.js';

interface StatusBody {
  message?: string;
  reason?: string;
  details?: { causes?: { field?: string; message?: string; reason?: string }[] };
}

function statusBody(err: ApiException<unknown>): StatusBody {
  const body = err.body;
  if (typeof body === 'string') {
    try {
      return JSON.parse(body) as StatusBody;
    } catch {
      return { message: body };
    }
  }
  return (body ?? {}) as StatusBody;
}

/** True for errors that mean the API server could not be reached at all. */
export function isUnreachable(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code ?? (err as { cause?: { code?: unknown } })?.cause?.code;
  if (typeof code === 'string' && /^(ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENOTFOUND|ETIMEDOUT|EPIPE|EAI_AGAIN|UND_ERR_)/.test(code)) return true;
  return (err as Error)?.name === 'FetchError' || (err as Error)?.name === 'AbortError';
}

export function statusCode(err: unknown): number | undefined {
  return err instanceof ApiException ? err.code : undefined;
}

/**
 * Maps a failed API call to a ProviderError; `what` names the object ("function "f" in
 * namespace "n""). Anything the contract has no code for is rethrown as it is.
 */
export function toProviderError(err: unknown, what: string): unknown {
  if (err instanceof ProviderError) return err;
  if (err instanceof ApiException) {
    const body = statusBody(err);
    const reason = body.message ?? err.message;
    if (err.code === 404) return new ProviderError('not_found', `${what} not found (Kubernetes: ${reason})`, { cause: err });
    if (err.code === 409) return new ProviderError('conflict', `${what}: ${body.reason === 'AlreadyExists' ? 'already exists' : 'was changed meanwhile'} (Kubernetes: ${reason})`, { cause: err });
    if (err.code === 422 || err.code === 400) {
      const causes = (body.details?.causes ?? []).map((c) => `${c.field ?? '?'}: ${c.message ?? c.reason ?? ''}`);
      return new ProviderError('invalid', `${what} is invalid: ${causes.length ? causes.join('; ') : reason}`, { cause: err });
    }
    if (err.code === 403) return new ProviderError('unavailable', `${what}: the gateway's service account may not do this (Kubernetes: ${reason})`, { cause: err });
    if (err.code >= 500) return new ProviderError('unavailable', `${what}: the Kubernetes API server failed (${err.code}: ${reason})`, { cause: err });
    return err;
  }
  if (isUnreachable(err)) {
    return new ProviderError('unavailable', `the Kubernetes API server is unreachable (${(err as Error).message})`, { cause: err });
  }
  return err;
}

/** Awaits an API call and rethrows its failure as a ProviderError. */
export async function call<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw toProviderError(err, what);
  }
}

/** Like call, but a 404 is undefined. */
export async function callOrAbsent<T>(what: string, work: () => Promise<T>): Promise<T | undefined> {
  try {
    return await work();
  } catch (err) {
    if (statusCode(err) === 404) return undefined;
    throw toProviderError(err, what);
  }
}

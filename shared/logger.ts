import { createRequire } from 'node:module';
import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';
import { ConfigError } from './config.js';

export type Logger = PinoLogger;

/** json: one object per line, for machines (the default). pretty: coloured lines for a person. */
export type LogFormat = 'json' | 'pretty';

/** Paths pino blanks out wherever they appear, so a secret never reaches a log line. */
const REDACT = [
  'password',
  'token',
  'secret',
  'authorization',
  '*.password',
  '*.token',
  '*.secret',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'headers["x-hub-signature-256"]',
  'headers["x-gitlab-token"]',
];

export function createLogger(service: string, level = 'info', format: LogFormat = 'json'): Logger {
  const options = { name: service, level, redact: { paths: REDACT, censor: '[redacted]' } };
  return format === 'pretty' ? pino(options, prettyStream()) : pino(options);
}

/**
 * pino-pretty in this thread (sync), so the last lines before an exit are not lost. It is a
 * dev dependency: an image built with --omit=dev lacks it, and says so at start-up.
 */
function prettyStream(): DestinationStream {
  let pretty: (options: Record<string, unknown>) => DestinationStream;
  try {
    pretty = createRequire(import.meta.url)('pino-pretty') as typeof pretty;
  } catch (err) {
    throw new ConfigError(
      'GITFAAS_LOG_FORMAT=pretty needs the npm package pino-pretty, which is not installed here: install it (npm install pino-pretty), or keep GITFAAS_LOG_FORMAT=json and pipe the output through `npx pino-pretty`',
      { cause: err },
    );
  }
  return pretty({ sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' });
}

/** A logger that drops everything, for tests and library defaults. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

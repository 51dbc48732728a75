// The body of every services/<name>/main.ts: load config, build the logger, start,
// and stop once on SIGTERM or SIGINT (containers send SIGTERM).
import { ConfigError, redactConfig } from './config.js';
import { createLogger, type LogFormat, type Logger } from './logger.js';

export interface RunningService {
  /** Stops accepting work, lets in-flight work finish, closes connections. Idempotent. */
  stop(): Promise<void>;
}

/** How start-up errors are prefixed: "gitfaas gateway: ...", or "gitfaas: ..." for all in one. */
function errorPrefix(name: string): string {
  return name === 'gitfaas' ? 'gitfaas' : `gitfaas ${name}`;
}

export async function runService<C extends { logLevel: string; logFormat: LogFormat }>(
  name: string,
  loadConfig: () => C,
  start: (config: C, log: Logger) => Promise<RunningService>,
): Promise<void> {
  let config: C;
  let log: Logger;
  try {
    config = loadConfig();
    log = createLogger(name, config.logLevel, config.logFormat);
  } catch (err) {
    const message = err instanceof ConfigError ? err.message : String((err as Error)?.stack ?? err);
    process.stderr.write(`${errorPrefix(name)}: ${message}\n`);
    process.exit(2);
  }
  // The whole configuration is kilobytes of JSON: there for debugging, not on every start.
  log.info('starting');
  log.debug({ config: redactConfig(config) }, 'configuration');
  let service: RunningService;
  try {
    service = await start(config, log);
  } catch (err) {
    log.fatal({ err }, 'failed to start');
    process.exit(1);
  }
  let stopping: Promise<void> | undefined;
  const shutdown = (signal: string) => {
    if (stopping) return;
    log.info({ signal }, 'stopping');
    stopping = service
      .stop()
      .then(() => {
        log.info('stopped');
        process.exit(0);
      })
      .catch((err) => {
        log.error({ err }, 'error while stopping');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

// The body of every services/<name>/main.ts: load config, build the logger, start,
// and stop once on SIGTERM or SIGINT (containers send SIGTERM).
import { ConfigError, redactConfig } from './config.js';
import { createLogger, type Logger } from './logger.js';

export interface RunningService {
  /** Stops accepting work, lets in-flight work finish, closes connections. Idempotent. */
  stop(): Promise<void>;
}

export async function runService<C extends { logLevel: string }>(
  name: string,
  loadConfig: () => C,
  start: (config: C, log: Logger) => Promise<RunningService>,
): Promise<void> {
  let config: C;
  try {
    config = loadConfig();
  } catch (err) {
    const message = err instanceof ConfigError ? err.message : String((err as Error)?.stack ?? err);
    process.stderr.write(`gitfaas ${name}: ${message}\n`);
    process.exit(2);
  }
  const log = createLogger(name, config.logLevel);
  log.info({ config: redactConfig(config) }, 'starting');
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

// The admin credentials of the gateway's /system API, read the same way by every service
// that serves or calls it (gateway, deployer, queue-worker): GITFAAS_ADMIN_USER, and
// GITFAAS_ADMIN_PASSWORD (or _FILE, via withSecrets), else the password scripts/setup.sh
// generates in the state directory.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from './config.js';

/** The variables, for a service's zod schema; list GITFAAS_ADMIN_PASSWORD in its withSecrets. */
export const adminCredentialsEnv = {
  GITFAAS_ADMIN_USER: z.string().min(1, 'expected a user name').default('admin'),
  GITFAAS_ADMIN_PASSWORD: z.string().optional(),
};

/** The password setup.sh generates when neither GITFAAS_ADMIN_PASSWORD nor _FILE is set. */
export function adminPasswordFile(stateDir: string): string {
  return path.join(stateDir, 'admin-password');
}

/**
 * The given password, else the generated one; a ConfigError naming the variables and the
 * fix when there is neither. `why` says what the service needs it for.
 */
export function adminPassword(given: string | undefined, stateDir: string, why = 'the admin API needs one'): string {
  if (given) return given;
  const file = adminPasswordFile(stateDir);
  let password: string;
  try {
    password = readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new ConfigError(
      `no admin password (${why}): set GITFAAS_ADMIN_PASSWORD or GITFAAS_ADMIN_PASSWORD_FILE, or run scripts/setup.sh to generate ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      { cause: err },
    );
  }
  if (!password) throw new ConfigError(`${file} is empty: set GITFAAS_ADMIN_PASSWORD or delete the file and run scripts/setup.sh`);
  return password;
}

/** The Authorization header value for the admin API. */
export function adminAuthHeader(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

// Which repository owners may build here (webhooks) or sign in (dashboard): GITFAAS_CUSTOMERS (inline) or
// GITFAAS_CUSTOMERS_FILE (one login per line, '#' comments), compared case-insensitively
// as GitHub and GitLab logins are. A plain `alice` allows alice on both hosts;
// `github:alice` or `gitlab:alice` allows her on that host only. The file is re-read
// whenever its mtime or size changes, so an operator edits it without a restart; if it
// becomes unreadable, nobody is allowed (fail closed) and the reason is logged.
import { statSync, readFileSync } from 'node:fs';
import type { Logger } from './logger.js';
import type { Scm } from './names.js';

/** Where the allowed logins come from (the webhooks' and the dashboard's configs both read GITFAAS_CUSTOMERS[_FILE]). */
export type CustomersSource = { kind: 'anyone' } | { kind: 'list'; logins: string } | { kind: 'file'; path: string };

export function parseLogins(text: string): Set<string> {
  return new Set(
    text
      .split(/[\n,]/)
      .map((line) => line.replace(/#.*$/, '').trim().toLowerCase())
      .filter(Boolean),
  );
}

export interface Allowlist {
  allows(login: string, scm: Scm): boolean;
}

function listed(logins: Set<string>, login: string, scm: Scm): boolean {
  const lower = login.toLowerCase();
  return logins.has(lower) || logins.has(`${scm}:${lower}`);
}

export function createAllowlist(source: CustomersSource, log: Logger): Allowlist {
  if (source.kind === 'anyone') {
    log.warn('neither GITFAAS_CUSTOMERS nor GITFAAS_CUSTOMERS_FILE is set: every repository owner may build');
    return { allows: () => true };
  }
  if (source.kind === 'list') {
    const logins = parseLogins(source.logins);
    return { allows: (login, scm) => listed(logins, login, scm) };
  }
  let seen = '';
  let logins = new Set<string>();
  const refresh = () => {
    try {
      const st = statSync(source.path);
      const stamp = `${st.mtimeMs}:${st.size}:${st.ino}`;
      if (stamp === seen) return;
      logins = parseLogins(readFileSync(source.path, 'utf8'));
      seen = stamp;
      log.info({ file: source.path, count: logins.size }, 'customers file loaded');
    } catch (err) {
      if (seen !== 'unreadable') log.error({ err, file: source.path }, 'GITFAAS_CUSTOMERS_FILE cannot be read: no owner may build');
      seen = 'unreadable';
      logins = new Set();
    }
  };
  refresh();
  return {
    allows(login, scm) {
      refresh();
      return listed(logins, login, scm);
    },
  };
}

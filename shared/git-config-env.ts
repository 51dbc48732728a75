// What git is told through GIT_CONFIG_COUNT / GIT_CONFIG_KEY_n / GIT_CONFIG_VALUE_n rather
// than `-c` on its command line: argv is readable by every local user (ps, /proc/*/cmdline),
// a process's environment only by its owner. Used by the builder's clone and the
// receiver's `git ls-remote` (admin rebuilds).

/**
 * The GIT_CONFIG_* variables of one clone: no redirects (a redirect must not take the
 * request, or credentials, to another host), and the credentials as a header that git
 * sends only to the clone URL's own origin.
 */
export function gitConfigEnvironment(url: string, credentials?: { username: string; password: string }): Record<string, string> {
  const entries: [string, string][] = [['http.followRedirects', 'false']];
  // A URL without a network origin (a path, file://) is given no credentials at all.
  const origin = URL.canParse(url) ? new URL(url).origin : 'null';
  if (credentials && origin !== 'null') {
    const basic = Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64');
    entries.push([`http.${origin}/.extraHeader`, `Authorization: Basic ${basic}`]);
  }
  const env: Record<string, string> = { GIT_CONFIG_COUNT: String(entries.length) };
  entries.forEach(([key, value], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = key;
    env[`GIT_CONFIG_VALUE_${i}`] = value;
  });
  return env;
}

// A failed deploy's error, split for where it goes: one compact line for a status (hosts
// cut descriptions at 140 characters, so the cause comes first and the plumbing goes:
// "create hello.ns: gateway answered 504 replica of "hello" " says nothing a user needs),
// and the replica's output, line by line, for the build log.

export interface DeployFailure {
  /** One line: "exited with code 1: SyntaxError: missing ) after argument list (/home/app/function/handler.js:2)". */
  reason: string;
  /** The crashed replica's output (the part around its first error), when the gateway gave it. */
  output: string[];
}

const STATUS_MAX = 140;

export function deployFailure(message: string): DeployFailure {
  const [first, ...rest] = message.split('\n');
  const outputAt = rest.findIndex((l) => l === 'its output:');
  const output = outputAt === -1 ? [] : rest.slice(outputAt + 1);
  const reason = first
    .replace(/^(create|update) \S+: gateway answered \d{3} /, '')
    .replace(/^replica of "[^"]+" /, '')
    .trim();
  return { reason, output };
}

/** Text cut to a host's limit: a trailing "(location)" goes before the cause is cut. */
export function fitDescription(text: string, max = STATUS_MAX): string {
  const line = text.replace(/\s+/g, ' ').trim();
  if (line.length <= max) return line;
  const withoutWhere = line.replace(/ \([^()]*\)$/, '');
  if (withoutWhere.length <= max) return withoutWhere;
  return `${withoutWhere.slice(0, max - 1)}…`;
}

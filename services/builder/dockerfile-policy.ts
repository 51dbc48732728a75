// What a tenant's Dockerfile may reach, checked before BuildKit sees it: every image it
// names (FROM, COPY --from, RUN --mount from=, in ONBUILD triggers too) must be in the
// allowed set (image-source.ts), ADD takes only local sources (no URL, no git remote: those
// are fetched by BuildKit itself, from the host's network, loopback included), RUN may not
// ask for the host's network or insecure mode, and no custom frontend (`# syntax=`,
// BUILDKIT_SYNTAX) replaces the parser this check follows. FROM is expanded with the
// global ARGs and the build arguments as BuildKit does; a form of expansion this check
// does not follow is refused rather than guessed.
import { DockerfileSyntaxError, mountFields, parseDockerfile, type Instruction } from './dockerfile-parse.js';
import type { ImagePolicy } from './image-source.js';

export class DockerfilePolicyError extends Error {
  override name = 'DockerfilePolicyError';
}

/** Build arguments that steer the frontend itself (BUILDKIT_SYNTAX picks another one). */
export function buildArgProblem(key: string): string | undefined {
  if (/^BUILDKIT_/i.test(key)) return `build_args.${key}: BUILDKIT_* arguments steer BuildKit's frontend and may not be set`;
  return undefined;
}

/**
 * Every problem of the Dockerfile, each as "Dockerfile line N: reason", read both with
 * and without heredocs (a frontend without heredoc support reads their bodies as
 * instructions); an empty list when it may be built.
 */
export function dockerfileProblems(text: string, buildArgs: Record<string, string>, policy: ImagePolicy): string[] {
  const problems = new Set<string>();
  for (const heredocs of [true, false]) {
    let parsed;
    try {
      parsed = parseDockerfile(text, { heredocs });
    } catch (err) {
      if (!(err instanceof DockerfileSyntaxError)) throw err;
      if (heredocs) problems.add(`Dockerfile ${err.message}`);
      continue;
    }
    for (const d of parsed.directives) {
      if (d.key === 'syntax') problems.add(`Dockerfile line ${d.line}: the "# syntax=${d.value}" directive is not allowed: builds use the platform's own Dockerfile frontend`);
    }
    for (const p of instructionProblems(parsed.instructions, buildArgs, policy)) problems.add(p);
  }
  for (const key of Object.keys(buildArgs)) {
    const p = buildArgProblem(key);
    if (p) problems.add(p);
  }
  return [...problems];
}

function instructionProblems(instructions: Instruction[], buildArgs: Record<string, string>, policy: ImagePolicy): string[] {
  const problems: string[] = [];
  const globalArgs = new Map<string, string | undefined>();
  const stages: string[] = [];
  let seenFrom = false;
  const at = (ins: Instruction, reason: string) => problems.push(`Dockerfile line ${ins.line}: ${ins.keyword} ${reason}`);
  const checkSource = (ins: Instruction, what: string, value: string, onbuild: boolean) => {
    if (value.includes('$')) return at(ins, `${what}="${value}": variables are not allowed here; name the stage or image`);
    const lower = value.toLowerCase();
    if (/^\d+$/.test(value) && !onbuild && Number(value) < stages.length) return;
    if (!onbuild && stages.includes(lower)) return;
    const p = policy.problem(value);
    if (p) at(ins, `${what}: ${p}`);
  };
  const check = (ins: Instruction, onbuild: boolean) => {
    switch (ins.keyword) {
      case 'ARG':
        if (!seenFrom && !onbuild) {
          for (const arg of ins.args) {
            const eq = arg.indexOf('=');
            const name = eq < 0 ? arg : arg.slice(0, eq);
            const fallback = eq < 0 ? undefined : expand(unquote(arg.slice(eq + 1)), globalArgs);
            // A default this check cannot expand poisons the name: a FROM using it is refused.
            const value = Object.hasOwn(buildArgs, name) ? buildArgs[name] : eq < 0 ? undefined : (fallback ?? UNKNOWN);
            globalArgs.set(name, PLATFORM_ARGS.has(name) ? UNKNOWN : value);
          }
        }
        break;
      case 'FROM': {
        if (onbuild) return at(ins, 'is not allowed in ONBUILD');
        seenFrom = true;
        const [image, as, name] = ins.args;
        if (!image) return at(ins, 'names no image');
        const expanded = expand(image, globalArgs);
        if (expanded === undefined) at(ins, `${image}: this form of variable expansion is not supported here; use $NAME or \${NAME:-default}`);
        else if (!stages.includes(expanded.toLowerCase())) {
          const p = policy.problem(expanded);
          if (p) at(ins, `${image}${expanded !== image ? ` (= ${expanded})` : ''}: ${p}`);
        }
        stages.push(as?.toLowerCase() === 'as' && name ? name.toLowerCase() : `\u0000${stages.length}`);
        break;
      }
      case 'COPY':
      case 'ADD':
        for (const f of ins.flags) if (f.name === 'from') checkSource(ins, '--from', f.value ?? '', onbuild);
        if (ins.keyword === 'ADD') {
          const sources = ins.heredocs.length > 0 ? [] : ins.args.slice(0, -1);
          for (const src of sources) {
            if (isRemote(src)) at(ins, `${src}: remote sources are not allowed (BuildKit would fetch them from the build host's network); fetch it in the repository or use a local file`);
          }
        }
        break;
      case 'RUN':
        for (const f of ins.flags) {
          if (f.name === 'mount') {
            const fields = mountFields(f.value ?? '');
            if (fields.from !== undefined) checkSource(ins, '--mount from', fields.from, onbuild);
          } else if (f.name === 'network' && f.value !== 'none' && f.value !== 'default') {
            at(ins, `--network=${f.value}: builds run without network; only --network=none is allowed`);
          } else if (f.name === 'security' && f.value !== 'sandbox') {
            at(ins, `--security=${f.value}: only the sandbox is allowed`);
          }
        }
        break;
      case 'ONBUILD': {
        const inner = parseDockerfile(ins.rest).instructions[0];
        if (inner) check({ ...inner, line: ins.line }, true);
        break;
      }
    }
  };
  for (const ins of instructions) check(ins, false);
  return problems;
}

/** URLs (http, https, git, ssh...) and git remotes in scp form (git@host:repo). */
function isRemote(src: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(src) || /^[^/\s]+@[^/\s]+:/.test(src) || /^github\.com\//i.test(src);
}

/** Set by BuildKit itself in FROM's scope, to values this check does not know. */
const PLATFORM_ARGS = new Set(['BUILDPLATFORM', 'BUILDOS', 'BUILDARCH', 'BUILDVARIANT', 'TARGETPLATFORM', 'TARGETOS', 'TARGETARCH', 'TARGETVARIANT']);
const UNKNOWN = '\u0000unknown';

function unquote(value: string): string {
  const m = /^"([^"]*)"$|^'([^']*)'$/.exec(value);
  return m ? (m[1] ?? m[2]) : value;
}

/**
 * $NAME, ${NAME}, ${NAME:-word}, ${NAME-word}, ${NAME:+word}, ${NAME+word}, as BuildKit's
 * shell lexer expands them (an undeclared name is empty); undefined for any other form
 * (quotes, escapes, ${NAME%...}), which this check refuses rather than guesses.
 */
export function expand(word: string, vars: Map<string, string | undefined>): string | undefined {
  if (/["'\\`]/.test(word)) return undefined;
  let failed = false;
  const out = word.replace(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([^}$]*))?\}|([A-Za-z_][A-Za-z0-9_]*))|\$/g, (all, braced, op, operand, bare) => {
    const name = braced ?? bare;
    if (!name) {
      failed = true;
      return all;
    }
    const value = PLATFORM_ARGS.has(name) ? UNKNOWN : vars.get(name);
    if (value === UNKNOWN) {
      failed = true;
      return all;
    }
    const set = value !== undefined;
    const nonEmpty = set && value !== '';
    switch (op) {
      case undefined:
        return value ?? '';
      case ':-':
        return nonEmpty ? value! : operand;
      case '-':
        return set ? value! : operand;
      case ':+':
        return nonEmpty ? operand : '';
      case '+':
        return set ? operand : '';
      default:
        failed = true;
        return all;
    }
  });
  return failed ? undefined : out;
}

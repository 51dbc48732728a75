// A Dockerfile read by BuildKit's dockerfile frontend rules, as far as the build policy
// (dockerfile-policy.ts) needs: parser directives at the top (`# syntax=`, `# escape=`),
// comments, line continuations with the escape character (comment and blank lines inside
// a continuation are skipped), heredocs on RUN/COPY/ADD (`<<EOF`, `<<-EOF`, quoted words),
// JSON and shell forms, and leading `--flag=value` options. Every instruction keeps the
// line it starts on, so a refusal can name it.

export interface Instruction {
  /** Upper-cased keyword: FROM, RUN, COPY, ... */
  keyword: string;
  /** 1-based line the instruction starts on. */
  line: number;
  /** Leading --name[=value] options, names lower-cased, in order. */
  flags: Array<{ name: string; value: string | undefined }>;
  /** The arguments after the flags (JSON form decoded, shell form split on whitespace). */
  args: string[];
  /** The text after the keyword, continuations joined, flags included. */
  rest: string;
  /** Heredoc words opened by this instruction (their bodies are not instructions). */
  heredocs: string[];
}

export interface ParsedDockerfile {
  /** Parser directives, keys lower-cased (`syntax`, `escape`, `check`...), with their line. */
  directives: Array<{ key: string; value: string; line: number }>;
  instructions: Instruction[];
}

const DIRECTIVE = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.*?)\s*$/;
const HEREDOC_KEYWORDS = new Set(['RUN', 'COPY', 'ADD']);
// <<EOF, <<-EOF, <<"EOF", <<'EOF' (BuildKit's heredoc grammar).
const HEREDOC = /<<(-?)(["']?)([A-Za-z0-9_]+)\2/g;

export class DockerfileSyntaxError extends Error {
  override name = 'DockerfileSyntaxError';
}

/**
 * Parses a Dockerfile. `heredocs: false` reads it as a frontend without heredoc support
 * does (the body lines become instructions): the policy checks both readings, so a
 * Dockerfile cannot hide an instruction from one of them.
 */
export function parseDockerfile(text: string, opts: { heredocs?: boolean } = {}): ParsedDockerfile {
  const heredocs = opts.heredocs ?? true;
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const directives: ParsedDockerfile['directives'] = [];
  let escape = '\\';
  let i = 0;
  // Directives: only at the very top, until the first line that is not one.
  for (; i < lines.length; i++) {
    const m = DIRECTIVE.exec(lines[i]);
    if (!m) break;
    const key = m[1].toLowerCase();
    directives.push({ key, value: m[2], line: i + 1 });
    if (key === 'escape') {
      if (m[2] !== '\\' && m[2] !== '`') throw new DockerfileSyntaxError(`line ${i + 1}: invalid escape token "${m[2]}": must be \` or \\`);
      escape = m[2];
    }
  }
  const instructions: Instruction[] = [];
  while (i < lines.length) {
    const raw = lines[i];
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) {
      i++;
      continue;
    }
    const start = i + 1;
    let logical = '';
    let current = raw;
    for (;;) {
      const stripped = current.replace(/\s+$/, '');
      if (stripped.endsWith(escape)) {
        logical += stripped.slice(0, -1);
        i++;
        // Comment and blank lines inside a continuation are dropped.
        while (i < lines.length && (lines[i].trim() === '' || lines[i].trim().startsWith('#'))) i++;
        if (i >= lines.length) break;
        current = lines[i];
        continue;
      }
      logical += current;
      i++;
      break;
    }
    const instruction = parseInstruction(logical.trim(), start, escape);
    if (heredocs && HEREDOC_KEYWORDS.has(instruction.keyword)) {
      for (const m of instruction.rest.matchAll(HEREDOC)) instruction.heredocs.push(m[3]);
      // Each heredoc's body runs to a line holding only its word (leading tabs dropped with <<-).
      for (const [index, word] of instruction.heredocs.entries()) {
        const stripTabs = [...instruction.rest.matchAll(HEREDOC)][index][1] === '-';
        while (i < lines.length && (stripTabs ? lines[i].replace(/^\t+/, '') : lines[i]) !== word) i++;
        if (i >= lines.length) throw new DockerfileSyntaxError(`line ${start}: heredoc <<${word} is never closed`);
        i++;
      }
    }
    instructions.push(instruction);
  }
  return { directives, instructions };
}

function parseInstruction(text: string, line: number, escape: string): Instruction {
  const m = /^(\S+)\s*([\s\S]*)$/.exec(text)!;
  const keyword = m[1].toUpperCase();
  const rest = m[2];
  const { flags, remainder } = leadingFlags(rest, escape);
  return { keyword, line, flags, args: splitArgs(remainder), rest, heredocs: [] };
}

/** `--name=value` words at the start (quotes in a value kept together, then removed). */
function leadingFlags(text: string, escape: string): { flags: Instruction['flags']; remainder: string } {
  const flags: Instruction['flags'] = [];
  let pos = 0;
  for (;;) {
    while (pos < text.length && /\s/.test(text[pos])) pos++;
    if (!text.startsWith('--', pos)) break;
    let word = '';
    let quote: string | undefined;
    for (; pos < text.length; pos++) {
      const c = text[pos];
      if (quote) {
        if (c === quote) quote = undefined;
        else if (c === escape && quote === '"' && pos + 1 < text.length) word += text[++pos];
        else word += c;
      } else if (c === '"' || c === "'") quote = c;
      else if (/\s/.test(c)) break;
      else if (c === escape && pos + 1 < text.length) word += text[++pos];
      else word += c;
    }
    if (word === '--') break;
    const eq = word.indexOf('=');
    flags.push(eq < 0 ? { name: word.slice(2).toLowerCase(), value: undefined } : { name: word.slice(2, eq).toLowerCase(), value: word.slice(eq + 1) });
  }
  return { flags, remainder: text.slice(pos).trim() };
}

/** JSON form (`["a", "b"]`) decoded; otherwise the words of the shell form. */
function splitArgs(text: string): string[] {
  if (text.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (Array.isArray(parsed) && parsed.every((a) => typeof a === 'string')) return parsed;
    } catch {
      // Not JSON: BuildKit reads it as the shell form too.
    }
  }
  return text.split(/\s+/).filter(Boolean);
}

/**
 * The key=value fields of a `--mount` value (BuildKit reads it as one CSV record, keys
 * case-insensitive).
 */
export function mountFields(value: string): Record<string, string> {
  const fields: Record<string, string> = {};
  let field = '';
  let quoted = false;
  const push = () => {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).trim().toLowerCase();
    if (key) fields[key] = eq < 0 ? '' : field.slice(eq + 1);
    field = '';
  };
  for (const c of value) {
    if (c === '"') quoted = !quoted;
    else if (c === ',' && !quoted) push();
    else field += c;
  }
  push();
  return fields;
}

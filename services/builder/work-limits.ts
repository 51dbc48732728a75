// How much work one commit may make the builder do before anything is built: the size of
// stack.yml (and of each environment_file), the environment of each function (entries and
// bytes), the handler folder (files and bytes). Each refusal names the limit, the figure
// found and the variable that sets it, so the owner knows what to shrink.
import { lstat, opendir } from 'node:fs/promises';
import path from 'node:path';
import { Parser } from 'yaml';

export interface WorkLimits {
  /** GITFAAS_MAX_STACK_BYTES: stack.yml and each environment_file. */
  stackBytes: number;
  /** GITFAAS_MAX_ENV_ENTRIES: variables of one function, environment_file entries included. */
  envEntries: number;
  /** GITFAAS_MAX_ENV_BYTES: names and values of one function's variables together. */
  envBytes: number;
  /** GITFAAS_MAX_HANDLER_FILES / GITFAAS_MAX_HANDLER_BYTES: one handler folder. */
  handlerFiles: number;
  handlerBytes: number;
  /** GITFAAS_STACK_PARSE_TIMEOUT: reading and checking stack.yml off the event loop. */
  parseTimeoutMs: number;
}

export const DEFAULT_WORK_LIMITS: WorkLimits = {
  stackBytes: 1024 * 1024,
  envEntries: 1000,
  envBytes: 256 * 1024,
  handlerFiles: 20_000,
  handlerBytes: 256 * 1024 * 1024,
  parseTimeoutMs: 20_000,
};

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** A file read by the builder (stack.yml, an environment_file) larger than the limit. */
export function fileSizeProblem(field: string, size: number, limits: WorkLimits): string | undefined {
  if (size <= limits.stackBytes) return undefined;
  return `${field} is ${formatBytes(size)}, more than the limit of ${formatBytes(limits.stackBytes)} (GITFAAS_MAX_STACK_BYTES)`;
}

/**
 * A YAML mapping or sequence with more entries than any stack.yml field may hold (the
 * environment limit is the largest), found on yaml's concrete syntax tree, which costs
 * time in proportion to the text: building the document from it costs time in proportion
 * to the square of a mapping's entries (yaml checks each key against those before it).
 */
export function collectionSizeProblem(field: string, text: string, limits: WorkLimits): string | undefined {
  const pending: unknown[] = [...new Parser().parse(text)];
  while (pending.length > 0) {
    const token = pending.pop() as { type?: string; value?: unknown; offset?: number; items?: Array<{ key?: unknown; value?: unknown }> } | undefined;
    if (!token || typeof token !== 'object') continue;
    if (token.type === 'document') pending.push(token.value);
    if (!token.items) continue;
    if (token.items.length > limits.envEntries) {
      const line = text.slice(0, token.offset ?? 0).split('\n').length;
      return `${field} line ${line}: a collection of ${token.items.length} entries, more than the limit of ${limits.envEntries} (GITFAAS_MAX_ENV_ENTRIES)`;
    }
    for (const item of token.items) pending.push(item.key, item.value);
  }
  return undefined;
}

/** A function's environment beyond the limits on entries or bytes. */
export function environmentProblem(name: string, env: Record<string, string>, limits: WorkLimits): string | undefined {
  const entries = Object.keys(env).length;
  if (entries > limits.envEntries) {
    return `functions.${name}.environment: ${entries} variables, more than the limit of ${limits.envEntries} (GITFAAS_MAX_ENV_ENTRIES)`;
  }
  let bytes = 0;
  for (const [k, v] of Object.entries(env)) bytes += Buffer.byteLength(k) + Buffer.byteLength(v);
  if (bytes > limits.envBytes) {
    return `functions.${name}.environment: ${formatBytes(bytes)} of names and values, more than the limit of ${formatBytes(limits.envBytes)} (GITFAAS_MAX_ENV_BYTES)`;
  }
  return undefined;
}

/**
 * Counts a handler folder's files and bytes (symlinks not followed, .git left out as the
 * build leaves it out). The walk stops at ten times a limit, so a tree of millions of
 * files costs a bounded number of reads; the figure then reads "at least".
 */
export async function handlerTreeProblem(field: string, dir: string, limits: WorkLimits): Promise<string | undefined> {
  let files = 0;
  let bytes = 0;
  let capped = false;
  const pending = [dir];
  walk: while (pending.length > 0) {
    const current = pending.pop()!;
    for await (const entry of await opendir(current)) {
      if (entry.name === '.git') continue;
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) {
        pending.push(full);
        continue;
      }
      files++;
      if (entry.isFile()) bytes += (await lstat(full)).size;
      if (files > 10 * limits.handlerFiles || bytes > 10 * limits.handlerBytes) {
        capped = true;
        break walk;
      }
    }
  }
  const about = capped ? 'at least ' : '';
  if (files > limits.handlerFiles) return `${field}: ${about}${files} files, more than the limit of ${limits.handlerFiles} (GITFAAS_MAX_HANDLER_FILES)`;
  if (bytes > limits.handlerBytes) {
    return `${field}: ${about}${formatBytes(bytes)} of files, more than the limit of ${formatBytes(limits.handlerBytes)} (GITFAAS_MAX_HANDLER_BYTES)`;
  }
  return undefined;
}

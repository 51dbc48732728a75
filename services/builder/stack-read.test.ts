// stack.yml read in a worker thread within the work limits: each refusal names the limit,
// the figure and the variable; a hostile file costs the worker, not the event loop.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { DEFAULT_QUOTAS } from '../../shared/tenancy.js';
import { readStack } from './stack-read.js';
import { DEFAULT_WORK_LIMITS, handlerTreeProblem, type WorkLimits } from './work-limits.js';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function repo(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'gitfaas-stack-read-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), text);
  }
  return dir;
}

const read = (repoDir: string, limits: Partial<WorkLimits> = {}) =>
  readStack({ repoDir, namespace: 'gh-t', quotas: DEFAULT_QUOTAS, limits: { ...DEFAULT_WORK_LIMITS, ...limits } });

function envStack(entries: number): string {
  const lines = ['functions:', '  greedy:', '    lang: node20', '    handler: ./greedy', '    environment:'];
  for (let i = 0; i < entries; i++) lines.push(`      V${i}: x`);
  return `${lines.join('\n')}\n`;
}

test('a stack.yml within the limits is read, with each function\'s environment', async () => {
  const dir = await repo({ 'stack.yml': envStack(3), 'env.yml': 'environment:\n  FROM_FILE: 1\n' });
  const { stack, environments } = await read(dir);
  assert.ok(stack.ok);
  assert.deepEqual(environments.greedy, { env: { V0: 'x', V1: 'x', V2: 'x' } });
});

test('a stack.yml larger than GITFAAS_MAX_STACK_BYTES is refused by its size, unread', async () => {
  const dir = await repo({ 'stack.yml': `${envStack(1)}# ${'x'.repeat(3 * 1024 * 1024)}\n` });
  const { stack } = await read(dir);
  assert.deepEqual(stack.ok ? [] : stack.problems, ['stack.yml is 3.0 MiB, more than the limit of 1.0 MiB (GITFAAS_MAX_STACK_BYTES)']);
});

test('100,000 environment entries are refused by count, in seconds, with the figure', async () => {
  const dir = await repo({ 'stack.yml': envStack(100_000) });
  const started = Date.now();
  // No parse timeout here: the count check must answer by itself. Building the document
  // instead takes minutes (383 s measured), so a bound of a minute tells the two apart
  // even on a loaded machine (about 4 s on a quiet one).
  const { stack } = await read(dir, { stackBytes: 64 * 1024 * 1024, parseTimeoutMs: 10 * 60_000 });
  assert.deepEqual(stack.ok ? [] : stack.problems, ['stack.yml line 6: a collection of 100000 entries, more than the limit of 1000 (GITFAAS_MAX_ENV_ENTRIES)']);
  assert.ok(Date.now() - started < 60_000, `took ${Date.now() - started} ms`);
});

test('environment limits count environment_file entries too, and bytes', async () => {
  const big = `environment:\n${Array.from({ length: 600 }, (_, i) => `  F${i}: y`).join('\n')}\n`;
  const stack = 'functions:\n  f:\n    lang: node20\n    handler: ./f\n    environment_file: [a.yml, b.yml]\n    environment: {LONG: ' + 'z'.repeat(100) + '}\n';
  const dir = await repo({ 'stack.yml': stack, 'a.yml': big, 'b.yml': big.replace(/F/g, 'G') });
  assert.deepEqual((await read(dir)).environments.f, { problems: ['functions.f.environment: 1201 variables, more than the limit of 1000 (GITFAAS_MAX_ENV_ENTRIES)'] });
  assert.deepEqual((await read(dir, { envEntries: 5000, envBytes: 1000 })).environments.f, {
    problems: ['functions.f.environment: 5.7 KiB of names and values, more than the limit of 1000 bytes (GITFAAS_MAX_ENV_BYTES)'],
  });
  assert.deepEqual((await read(dir, { envEntries: 5000, stackBytes: 1000 })).environments.f, {
    problems: ['functions.f.environment_file[0]: "a.yml" is 5.8 KiB, more than the limit of 1000 bytes (GITFAAS_MAX_STACK_BYTES)', 'functions.f.environment_file[1]: "b.yml" is 5.8 KiB, more than the limit of 1000 bytes (GITFAAS_MAX_STACK_BYTES)'],
  });
});

test('alias bombs and deep nesting fail as YAML problems; a parse that outlasts the deadline is stopped', async () => {
  const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]', ...Array.from({ length: 9 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`), 'functions: *j'];
  const bombed = await read(await repo({ 'stack.yml': `${bomb.join('\n')}\n` }));
  assert.equal(bombed.stack.ok, false);
  assert.match(bombed.stack.ok ? '' : bombed.stack.problems[0], /^stack\.yml: .*(alias|Excessive)/i);
  const deep = await read(await repo({ 'stack.yml': `functions: ${'['.repeat(200_000)}${']'.repeat(200_000)}\n` }));
  assert.equal(deep.stack.ok, false);
  const slow = await read(await repo({ 'stack.yml': envStack(900) }), { parseTimeoutMs: 1 });
  assert.deepEqual(slow.stack.ok ? [] : slow.stack.problems, ['stack.yml: reading and checking it took longer than 0.001 s, the limit (GITFAAS_STACK_PARSE_TIMEOUT)']);
});

test('a handler folder beyond the file or byte limit is refused with the figure', async () => {
  const files: Record<string, string> = {};
  for (let i = 0; i < 30; i++) files[`h/sub${i % 3}/f${i}.js`] = 'x'.repeat(100);
  const dir = await repo(files);
  const limits = { ...DEFAULT_WORK_LIMITS, handlerFiles: 20, handlerBytes: 10_000 };
  assert.equal(await handlerTreeProblem('functions.h.handler: "h"', path.join(dir, 'h'), limits), 'functions.h.handler: "h": 30 files, more than the limit of 20 (GITFAAS_MAX_HANDLER_FILES)');
  assert.equal(
    await handlerTreeProblem('functions.h.handler: "h"', path.join(dir, 'h'), { ...limits, handlerFiles: 100, handlerBytes: 1000 }),
    'functions.h.handler: "h": 2.9 KiB of files, more than the limit of 1000 bytes (GITFAAS_MAX_HANDLER_BYTES)',
  );
  assert.equal(await handlerTreeProblem('f', path.join(dir, 'h'), { ...limits, handlerFiles: 2, handlerBytes: 1_000_000 }), 'f: at least 21 files, more than the limit of 2 (GITFAAS_MAX_HANDLER_FILES)');
  assert.equal(await handlerTreeProblem('f', path.join(dir, 'h'), { ...limits, handlerFiles: 30 }), undefined);
});

// stack.yml validation: every problem is reported at once, naming function, field and
// reason; paths stay inside the repository (no "..", no symlink out), checked on real files.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { functionEnvironment, loadStack, parseStack, resolveInRepo, StackFileError } from '../../shared/stack.js';
import { DEFAULT_QUOTAS } from '../../shared/tenancy.js';

const GOOD = `
version: 1.0
provider:
  name: openfaas
  gateway: http://127.0.0.1:8080
functions:
  hello:
    lang: node20
    handler: ./hello
    image: ghcr.io/alice/hello:latest
    environment:
      write_debug: true
      RETRIES: 3
    secrets: [api-key]
    labels: { tier: web }
    annotations: { topic: cron }
    limits: { memory: 128Mi, cpu: 500m }
    requests: { memory: 64Mi }
    build_args: { NODE_ENV: production }
    readonly_root_filesystem: true
  py:
    lang: python3-http
    handler: py
configuration:
  templates:
    - name: python3-http
  copy: [./shared]
`;

describe('parseStack', () => {
  test('accepts the faas-cli schema and types scalars as strings', () => {
    const result = parseStack(GOOD, { namespace: 'gh-alice' });
    assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
    const hello = result.stack.functions.hello;
    assert.deepEqual(hello.environment, { write_debug: 'true', RETRIES: '3' });
    assert.deepEqual(hello.limits, { memory: '128Mi', cpu: '500m' });
    assert.equal(hello.readonly_root_filesystem, true);
    assert.deepEqual(result.stack.configuration?.copy, ['./shared']);
  });

  test('reports every problem, each naming function, field and reason', () => {
    const text = `
version: 1.0
provider: { name: faas }
functions:
  Bad_Name:
    lang: node20
    handler: ./x
  a:
    handler: ../outside
    environment: { "1BAD": x }
    skip_build: true
    colour: blue
  b:
    lang: python3-http
    handler: /etc
    limits: { memory: 1Gi, disk: 2Gi }
    readonly_root_filesystem: "yes"
    secrets: [Not_Valid]
    labels: { com.openfaas.cloud.git-owner: mallory }
    namespace: gh-bob
    environment_file: [../../secrets.yml]
`;
    const result = parseStack(text, { namespace: 'gh-alice' });
    assert.equal(result.ok, false);
    const problems = (result as { problems: string[] }).problems;
    const expect = [
      /^functions\.a\.lang: is required/,
      /^functions\.a\.skip_build: is not supported/,
      /^functions\.a\.colour: unknown field/,
      /^functions\.b\.limits\.disk: unknown field/,
      /^functions\.b\.readonly_root_filesystem: /,
      // ...and the functions' other problems are still found, tenancy's included.
      /^function Bad_Name: name must be a DNS-1123 label/,
      /^function b: labels\.com\.openfaas\.cloud\.git-owner is reserved/,
      /^function b: namespace "gh-bob" is not this owner's namespace/,
      /^functions\.a\.handler: "\.\.\/outside" must stay inside the repository/,
      /^functions\.b\.handler: "\/etc" must be relative/,
    ];
    for (const re of expect) assert.ok(problems.some((p) => re.test(p)), `expected a problem matching ${re} in:\n${problems.join('\n')}`);
    assert.equal(problems.length, expect.length, problems.join('\n'));
  });

  test('reports semantic problems: names, paths, namespace, secrets, reserved labels, provider', () => {
    const text = `
provider: { name: faas }
functions:
  Bad_Name: { lang: node20, handler: ./x }
  a: { lang: node20, handler: ../outside, environment: { "1BAD": x } }
  b:
    lang: python3-http
    handler: /etc
    secrets: [Not_Valid]
    labels: { com.openfaas.cloud.git-owner: mallory }
    namespace: gh-bob
    environment_file: [sub/../../secrets.yml]
`;
    const result = parseStack(text, { namespace: 'gh-alice' });
    assert.equal(result.ok, false);
    const problems = (result as { problems: string[] }).problems;
    const expect = [
      /^provider\.name: must be "openfaas"/,
      /^function Bad_Name: name must be a DNS-1123 label/,
      /^functions\.a\.handler: "\.\.\/outside" must stay inside the repository/,
      /^functions\.a\.environment: "1BAD" is not a valid variable name/,
      /^functions\.b\.handler: "\/etc" must be relative/,
      /^functions\.b\.secrets: "Not_Valid" must be a DNS-1123 label/,
      /^function b: labels\.com\.openfaas\.cloud\.git-owner is reserved for gitfaas/,
      /^function b: namespace "gh-bob" is not this owner's namespace; functions deploy to "gh-alice" only/,
      /^functions\.b\.environment_file\[0\]: "sub\/\.\.\/\.\.\/secrets\.yml" must stay inside/,
    ];
    for (const re of expect) assert.ok(problems.some((p) => re.test(p)), `expected a problem matching ${re} in:\n${problems.join('\n')}`);
    assert.equal(problems.length, expect.length, problems.join('\n'));
  });

  test('names YAML syntax errors and a missing functions map', () => {
    const bad = parseStack('functions: [unclosed', { file: 'stack.yaml' });
    assert.equal(bad.ok, false);
    assert.match((bad as { problems: string[] }).problems[0], /^stack\.yaml: not valid YAML/);
    const none = parseStack('version: 1.0\n');
    assert.match((none as { problems: string[] }).problems.join('\n'), /^functions: is required/);
    const empty = parseStack('functions: {}\n');
    assert.deepEqual((empty as { problems: string[] }).problems, ['functions: declares no function']);
    const dup = parseStack('functions:\n  a: { lang: node20, handler: a }\n  a: { lang: node20, handler: b }\n');
    assert.match((dup as { problems: string[] }).problems[0], /not valid YAML.*unique/i);
  });
});

describe('paths inside the repository (real files)', () => {
  let root: string;
  let repo: string;
  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'gitfaas-stack-'));
    repo = path.join(root, 'repo');
    await mkdir(path.join(repo, 'fn'), { recursive: true });
    await writeFile(path.join(root, 'outside.yml'), 'environment:\n  STOLEN: "yes"\n');
    await writeFile(path.join(repo, 'env.yml'), 'environment:\n  FROM_FILE: a\n  BOTH: file\n');
    await writeFile(path.join(repo, 'bad-env.yml'), 'environment: [not, a, map]\n');
    await symlink(root, path.join(repo, 'escape'));
    await symlink('../outside.yml', path.join(repo, 'linked-env.yml'));
    await symlink('fn', path.join(repo, 'inside-link'));
    await symlink('missing', path.join(repo, 'dangling'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  test('a handler folder inside, also through a symlink that stays inside, resolves', async () => {
    assert.equal(await resolveInRepo(repo, 'fn', 'h'), path.join(await realRoot(repo), 'fn'));
    assert.equal(await resolveInRepo(repo, './inside-link', 'h'), path.join(await realRoot(repo), 'fn'));
  });

  test('".." and symlinks out are refused with the field named', async () => {
    await assert.rejects(resolveInRepo(repo, '../repo/fn', 'functions.a.handler'), /functions\.a\.handler: "\.\.\/repo\/fn" must stay inside the repository/);
    await assert.rejects(resolveInRepo(repo, 'escape', 'functions.a.handler'), /functions\.a\.handler: "escape" resolves outside the repository through a symlink/);
    await assert.rejects(resolveInRepo(repo, 'escape/outside.yml', 'f'), /resolves outside the repository/);
    await assert.rejects(resolveInRepo(repo, 'dangling', 'f'), /symlink to a missing target/);
    await assert.rejects(resolveInRepo(repo, 'nope', 'f'), /"nope" does not exist in the repository/);
  });

  test('environment_file is read relative to the repository, environment wins, escapes are refused', async () => {
    const env = await functionEnvironment(repo, 'a', { lang: 'node20', handler: 'fn', environment_file: ['env.yml'], environment: { BOTH: 'inline' } });
    assert.deepEqual(env, { FROM_FILE: 'a', BOTH: 'inline' });
    await assert.rejects(
      functionEnvironment(repo, 'a', { lang: 'node20', handler: 'fn', environment_file: ['linked-env.yml', 'bad-env.yml', 'absent.yml'] }),
      (err: Error) => {
        assert.ok(err instanceof StackFileError);
        const lines = err.message.split('\n');
        assert.equal(lines.length, 3, err.message);
        assert.match(lines[0], /environment_file\[0\]: "linked-env\.yml" resolves outside the repository/);
        assert.match(lines[1], /environment_file\[1\]: "bad-env\.yml" environment/);
        assert.match(lines[2], /environment_file\[2\]: "absent\.yml" does not exist/);
        return true;
      },
    );
  });

  test('loadStack reads stack.yaml when there is no stack.yml, and refuses a stack.yml symlinked out', async () => {
    await writeFile(path.join(repo, 'stack.yaml'), 'functions:\n  fn: { lang: node20, handler: fn }\n');
    const loaded = await loadStack(repo);
    assert.ok(loaded.ok);
    assert.equal(loaded.file, 'stack.yaml');
    await writeFile(path.join(root, 'evil.yml'), 'functions: {}\n');
    await symlink('../evil.yml', path.join(repo, 'stack.yml'));
    const refused = await loadStack(repo);
    assert.equal(refused.ok, false);
    assert.match((refused as { problems: string[] }).problems[0], /stack\.yml: "stack\.yml" resolves outside the repository/);
    const empty = await mkdtemp(path.join(root, 'empty-'));
    assert.deepEqual(await loadStack(empty), { ok: false, problems: ['no stack.yml or stack.yaml at the root of the repository'] });
  });
});

async function realRoot(dir: string): Promise<string> {
  const { realpath } = await import('node:fs/promises');
  return realpath(dir);
}

describe('stack.yml against the owner\'s quotas', () => {
  test('scale, memory and CPU beyond the quotas are named; com.gitfaas.domain is the user\'s; the quotas are configurable', () => {
    const text = `functions:
  a:
    lang: node20
    handler: ./a
    labels: { com.openfaas.scale.min: "2", com.openfaas.scale.max: "many" }
    annotations: { com.gitfaas.domain: api.example.com }
    requests: { memory: 2Gi }
  b: { lang: node20, handler: ./b, limits: { cpu: 1500m, memory: lots } }
`;
    const quotas = { ...DEFAULT_QUOTAS, replicasPerFunction: 1 };
    const result = parseStack(text, { namespace: 'gh-alice', quotas });
    assert.equal(result.ok, false);
    const problems = (result as { problems: string[] }).problems;
    const expect = [
      /^function a: labels\.com\.openfaas\.scale\.min "2" is outside the quota replicasPerFunction \(0 to 1\)/,
      /^function a: labels\.com\.openfaas\.scale\.max "many" is outside the quota replicasPerFunction/,
      /^function a: requests\.memory 2Gi is over the quota maxMemory \(1Gi\)/,
      /^function b: limits\.cpu 1500m is over the quota maxCpu \(1\)/,
      /^function b: limits\.memory "lots" is not a quantity/,
    ];
    for (const re of expect) assert.ok(problems.some((p) => re.test(p)), `expected a problem matching ${re} in:\n${problems.join('\n')}`);
    assert.equal(problems.length, expect.length, problems.join('\n'));
    assert.equal(parseStack(text.replace(/"2"/, '"1"').replace('"many"', '"1"').replace('2Gi', '1Gi').replace('1500m', '1').replace('lots', '64Mi'), { namespace: 'gh-alice', quotas }).ok, true);
  });
});

test('a YAML syntax error names the line and shows the snippet it points at', () => {
  const text = 'version: 1.0\nfunctions:\n  hello:\n    lang: node20\n    handler: "./hello\n';
  const bad = parseStack('version: 1.0\nfunctions:\n  hello: {lang: node20, handler: ./hello\n  other: x\n');
  assert.equal(bad.ok, false);
  const problem = (bad as { problems: string[] }).problems[0];
  const [first, ...snippet] = problem.split('\n');
  assert.match(first, /^stack\.yml: not valid YAML at line \d+, column \d+ \(".+"\): .+$/);
  assert.doesNotMatch(first, /:$/, 'the message does not end with a colon');
  assert.equal(snippet.length, 2, problem);
  assert.match(snippet[1], /^\s+\| +\^$/);
  const unterminated = parseStack(text);
  assert.match((unterminated as { problems: string[] }).problems[0], /not valid YAML at line \d+/);
});

// Cloning exactly the pushed commit from real repositories: on disk (file://) and over
// git's smart HTTP protocol with basic auth (a private repository), where the token goes
// only in an http.extraHeader on git's command line.
import assert from 'node:assert/strict';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { simpleGit } from 'simple-git';
import { startGitHttpServer, type GitHttpServer } from '../../test/builder/git-http-server.js';
import { TestRepo } from '../../test/builder/git-repo.js';
import { CloneError, cloneCommit } from './clone.js';

let root: string;
let repo: TestRepo;
const shas: string[] = [];
let http: GitHttpServer;
const TOKEN = 'ghs_test-token-that-must-never-leak-0123456789';

before(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'gitfaas-clone-'));
  repo = await TestRepo.create(path.join(root, 'repo'));
  shas.push(await repo.commit({ 'a.txt': 'one\n' }, 'first'));
  shas.push(await repo.commit({ 'a.txt': 'two\n', 'b.txt': 'b\n' }, 'second'));
  shas.push(await repo.commit({ 'a.txt': 'three\n' }, 'third'));
  http = await startGitHttpServer(path.join(root, 'repo'), { username: 'x-access-token', password: TOKEN });
});
after(async () => {
  await http?.close();
  await rm(root, { recursive: true, force: true });
});

test('fetches only the given commit (depth 1), not the branch tip', async () => {
  const dir = path.join(root, 'out-file');
  await cloneCommit({ url: repo.url, sha: shas[1], dir, timeoutMs: 30_000 });
  assert.equal(await readFile(path.join(dir, 'a.txt'), 'utf8'), 'two\n');
  assert.equal(await readFile(path.join(dir, 'b.txt'), 'utf8'), 'b\n');
  const git = simpleGit(dir);
  assert.equal((await git.raw(['rev-list', '--count', 'HEAD'])).trim(), '1', 'a shallow history of one commit');
  assert.equal((await git.revparse(['HEAD'])).trim(), shas[1]);
});

test('variables from the host that simple-git refuses (EDITOR, PAGER, GIT_*) do not break a clone', async () => {
  const saved = { EDITOR: process.env.EDITOR, PAGER: process.env.PAGER, GIT_ASKPASS: process.env.GIT_ASKPASS };
  Object.assign(process.env, { EDITOR: 'vi', PAGER: 'less', GIT_ASKPASS: '/bin/false' });
  try {
    const dir = path.join(root, 'out-env');
    await cloneCommit({ url: repo.url, sha: shas[0], dir, timeoutMs: 30_000 });
    assert.equal(await readFile(path.join(dir, 'a.txt'), 'utf8'), 'one\n');
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
});

test('a commit that does not exist is a CloneError naming the URL and sha', async () => {
  const missing = 'f'.repeat(40);
  await assert.rejects(cloneCommit({ url: repo.url, sha: missing, dir: path.join(root, 'out-missing'), timeoutMs: 30_000 }), (err: Error) => {
    assert.ok(err instanceof CloneError);
    assert.match(err.message, new RegExp(`clone of file://.* at fffffff failed: .+`));
    return true;
  });
});

test('a private repository clones with the token in an extra header, which is left nowhere on disk', async () => {
  const dir = path.join(root, 'out-http');
  const url = `${http.url}/remote.git`;
  await cloneCommit({ url, sha: shas[2], dir, credentials: { username: 'x-access-token', password: TOKEN }, timeoutMs: 30_000 });
  assert.equal(await readFile(path.join(dir, 'a.txt'), 'utf8'), 'three\n');
  assert.ok(http.authorizations.length > 0, 'git sent the header');
  const basic = Buffer.from(`x-access-token:${TOKEN}`).toString('base64');
  const config = await readFile(path.join(dir, '.git/config'), 'utf8');
  assert.ok(!config.includes(TOKEN) && !config.includes(basic), `.git/config holds no credentials:\n${config}`);
  assert.match(config, new RegExp(`url = ${url.replace(/[.]/g, '\\.')}\\n`), 'the remote URL carries no credentials');
});

test('without or with a wrong token the clone fails with the reason, and the token is not in the message', async () => {
  await assert.rejects(cloneCommit({ url: `${http.url}/remote.git`, sha: shas[2], dir: path.join(root, 'out-none'), timeoutMs: 30_000 }), (err: Error) => {
    assert.ok(err instanceof CloneError);
    assert.match(err.message, /failed: .*(Authentication|could not read Username|terminal prompts disabled)/i);
    return true;
  });
  const wrong = `${TOKEN}-wrong`;
  await assert.rejects(
    cloneCommit({ url: `${http.url}/remote.git`, sha: shas[2], dir: path.join(root, 'out-wrong'), credentials: { username: 'x-access-token', password: wrong }, timeoutMs: 30_000 }),
    (err: Error) => {
      assert.ok(err instanceof CloneError);
      assert.ok(!err.message.includes(wrong) && !err.message.includes(Buffer.from(`x-access-token:${wrong}`).toString('base64')), err.message);
      assert.match(err.message, /failed: /);
      return true;
    },
  );
});

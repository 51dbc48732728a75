// Attack (issue 8 §6): the clone token was on git's command line (`git -c
// http.extraHeader=Authorization: Basic ...`), which any local user reads in `ps`. While a
// clone is held in flight by the git server, every git process's /proc/<pid>/cmdline is
// read: the clone's processes are there, and none carries the token in any form.
import assert from 'node:assert/strict';
import { readdir, readFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { cloneCommit } from '../../services/builder/clone.js';
import { startGitHttpServer, type GitHttpServer } from '../builder/git-http-server.js';
import { TestRepo } from '../builder/git-repo.js';
import { waitFor } from '../helpers/wait.js';

const TOKEN = `ghs_argv-${Math.random().toString(36).slice(2)}-0123456789`;
const credentials = { username: 'x-access-token', password: TOKEN };
const basic = Buffer.from(`x-access-token:${TOKEN}`).toString('base64');
let root: string;
let server: GitHttpServer;
let held = 0;
let release!: () => void;
const released = new Promise<void>((resolve) => (release = resolve));

before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'gitfaas-sec-argv-'));
  server = await startGitHttpServer(path.join(root, 'served'), undefined, {
    hold: async () => {
      held += 1;
      await released;
    },
  });
  server.protect('/o/', credentials);
});

after(async () => {
  release();
  await server?.close();
  await rm(root, { recursive: true, force: true });
});

/** argv of every process whose program is git or one of its helpers (git-remote-http...). */
async function gitCommandLines(): Promise<string[][]> {
  const found: string[][] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const raw = await readFile(`/proc/${pid}/cmdline`).catch(() => undefined);
    if (!raw || raw.length === 0) continue;
    const argv = raw.toString('utf8').split('\0').filter(Boolean);
    if (/^git(-|$)/.test(path.basename(argv[0] ?? ''))) found.push(argv);
  }
  return found;
}

test('a clone in flight shows no token on any git command line', async () => {
  const repo = await TestRepo.create(path.join(root, 'work'), path.join(root, 'served', 'o', 'r.git'));
  const sha = await repo.commit({ 'stack.yml': 'functions: {}\n' });
  const url = `${server.url}/o/r.git`;
  const clone = cloneCommit({ url, sha, dir: path.join(root, 'clone'), credentials, timeoutMs: 60_000 });
  await waitFor('the git server to hold the clone', async () => held > 0, 30_000, 20);
  const lines = await gitCommandLines();
  const ours = lines.filter((argv) => argv.some((arg) => arg.includes(server.url)));
  assert.ok(ours.length > 0, `the clone's git processes are visible (saw: ${JSON.stringify(lines)})`);
  for (const argv of lines) {
    const text = argv.join(' ');
    assert.ok(!text.includes(TOKEN) && !text.includes(basic) && !/authorization/i.test(text), `no credentials in: ${text}`);
  }
  assert.ok(server.authorizations.includes(`Basic ${basic}`), 'the credentials did reach the configured host');
  release();
  await clone;
});

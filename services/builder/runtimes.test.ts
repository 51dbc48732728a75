// The template runtimes themselves (standard library only, so they run on this machine
// too): the OpenFaaS node20 and python3-http handler contracts, served on a real port.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '../../test/helpers/wait.js';
import { templatesDir } from './templates.js';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

async function startRuntime(template: string, files: Record<string, string>, command: string[]): Promise<{ base: string; child: ChildProcess; dir: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), `gitfaas-${template}-`));
  await cp(path.join(templatesDir(), template), dir, { recursive: true });
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, 'function', rel)), { recursive: true });
    await writeFile(path.join(dir, 'function', rel), content);
  }
  const port = await freePort();
  const child = spawn(command[0], command.slice(1), { cwd: dir, env: { PATH: '/usr/local/bin:/usr/bin:/bin', PORT: String(port) }, stdio: 'ignore' });
  const base = `http://127.0.0.1:${port}`;
  await waitFor(`${template} runtime on ${port}`, async () => (await fetch(`${base}/_/health`).catch(() => undefined))?.ok ?? false, 15_000);
  return { base, child, dir };
}

describe('node20 runtime', () => {
  let rt: Awaited<ReturnType<typeof startRuntime>>;
  before(async () => {
    rt = await startRuntime(
      'node20',
      {
        'handler.js': `module.exports = async (event, context) => {
  switch (event.path) {
    case '/fail': return context.fail(new Error('boom'));
    case '/throw': throw new Error('thrown');
    case '/text': return context.status(200).headers({ 'content-type': 'text/plain' }).succeed('plain ' + event.body);
    case '/nothing': return undefined;
    case '/raw': return Buffer.isBuffer(event.body) ? 'buffer ' + event.body.length : 'not a buffer';
    default: return { method: event.method, query: event.query, path: event.path, body: event.body, header: event.headers['x-test'] };
  }
};
`,
      },
      ['node', 'index.js'],
    );
  });
  after(async () => {
    rt.child.kill('SIGTERM');
    await rm(rt.dir, { recursive: true, force: true });
  });

  test('JSON in, JSON out, with method, query, path and headers', async () => {
    const res = await fetch(`${rt.base}/a/b?x=1&y=2`, { method: 'PATCH', headers: { 'content-type': 'application/json', 'x-test': 'yes' }, body: '{"k":[1,2]}' });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /^application\/json/);
    assert.deepEqual(await res.json(), { method: 'PATCH', query: { x: '1', y: '2' }, path: '/a/b', body: { k: [1, 2] }, header: 'yes' });
  });

  test('text bodies are strings, other types are Buffers, headers and status are the handler\'s', async () => {
    const text = await fetch(`${rt.base}/text`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hi' });
    assert.equal(await text.text(), 'plain hi');
    assert.equal(text.headers.get('content-type'), 'text/plain');
    const raw = await fetch(`${rt.base}/raw`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: new Uint8Array([1, 2, 3]) });
    assert.equal(await raw.text(), 'buffer 3');
    const nothing = await fetch(`${rt.base}/nothing`);
    assert.equal(nothing.status, 200);
    assert.equal(await nothing.text(), '');
  });

  test('context.fail and a thrown error are 500s; malformed JSON is a 400', async () => {
    const fail = await fetch(`${rt.base}/fail`);
    assert.equal(fail.status, 500);
    assert.equal(await fail.text(), 'Error: boom');
    const thrown = await fetch(`${rt.base}/throw`);
    assert.equal(thrown.status, 500);
    assert.equal(await thrown.text(), 'Error: thrown');
    const bad = await fetch(`${rt.base}/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{nope' });
    assert.equal(bad.status, 400);
  });
});

describe('python3-http runtime', () => {
  let rt: Awaited<ReturnType<typeof startRuntime>>;
  before(async () => {
    rt = await startRuntime(
      'python3-http',
      {
        'handler.py': `def handle(event, context):
    if event.path == "/none":
        return None
    if event.path == "/raise":
        raise ValueError("bad input")
    if event.path == "/text":
        return {"statusCode": 418, "body": "short and stout", "headers": {"Content-Type": "text/plain"}}
    return {
        "statusCode": 200,
        "body": {"method": event.method, "query": event.query, "path": event.path, "body": event.body.decode(), "header": event.headers.get("X-Test"), "host": context.hostname != ""},
    }
`,
      },
      ['python3', 'index.py'],
    );
  });
  after(async () => {
    rt.child.kill('SIGTERM');
    await rm(rt.dir, { recursive: true, force: true });
  });

  test('event and context as in the OpenFaaS template; a dict body is JSON', async () => {
    const res = await fetch(`${rt.base}/p/q?a=1`, { method: 'DELETE', headers: { 'x-test': 'case-insensitive' }, body: 'payload' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.deepEqual(await res.json(), { method: 'DELETE', query: { a: '1' }, path: '/p/q', body: 'payload', header: 'case-insensitive', host: true });
  });

  test('statusCode and headers are the handler\'s; None is an empty 200; an exception is a 500', async () => {
    const text = await fetch(`${rt.base}/text`);
    assert.equal(text.status, 418);
    assert.equal(text.headers.get('content-type'), 'text/plain');
    assert.equal(await text.text(), 'short and stout');
    const none = await fetch(`${rt.base}/none`);
    assert.equal(none.status, 200);
    assert.equal(await none.text(), '');
    const raised = await fetch(`${rt.base}/raise`);
    assert.equal(raised.status, 500);
    assert.equal(await raised.text(), 'bad input');
  });
});

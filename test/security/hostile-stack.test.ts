// Issue 8 §1: one tenant cannot freeze everyone. The platform runs as in the single-process
// default (gateway, webhook receiver, builder and deployer in this one process, on one
// event loop); a tenant pushes three hostile stack.yml files at once (30 MB; 60,000
// environment entries just under the size limit; an alias bomb). While they are read,
// another tenant's webhook deliveries and calls through the gateway's proxy are timed:
// none may take longer than a small bound, and each hostile build fails saying why.
import assert from 'node:assert/strict';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { after, before, test } from 'node:test';
import { deployAndWait } from '../helpers/gateway.js';
import { startGitOpsStack, type GitOpsStack } from '../helpers/gitops-stack.js';
import { fixtureImage } from '../helpers/images.js';
import { waitFor } from '../helpers/wait.js';

/** The longest another request may take while the hostile stacks are read. */
const BOUND_MS = 1000;

let stack: GitOpsStack;

before(async () => {
  // The refusals under test are by size, count and alias limits; a loaded machine must not
  // turn the 60,000-entry count check (about 2 s of worker time) into a parse timeout.
  stack = await startGitOpsStack({ env: { GITFAAS_STACK_PARSE_TIMEOUT: '120s' } });
});
after(() => stack?.stop());

function environmentStack(entries: number): string {
  const lines = ['version: 1.0', 'provider: {name: openfaas}', 'functions:', '  greedy:', '    lang: node20', '    handler: ./greedy', '    environment:'];
  for (let i = 0; i < entries; i++) lines.push(`      V${i}: x`);
  return `${lines.join('\n')}\n`;
}

function aliasBomb(): string {
  const lines = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 10; i++) lines.push(`l${i}: &l${i} [${Array.from({ length: 9 }, () => `*l${i - 1}`).join(',')}]`);
  lines.push('functions:', '  bomb: {lang: node20, handler: ./bomb, environment: {X: *l9}}');
  return `${lines.join('\n')}\n`;
}

const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((values.length * p) / 100))];

test('hostile stack.yml files fail with their reason, and other tenants are answered within the bound meanwhile', async () => {
  // Another tenant: a deployed function (called through the proxy) and a repository whose
  // pushes are delivered (the same commit each time: deduplicated, built once).
  const image = await fixtureImage('echo');
  await deployAndWait(stack.gateway, { service: 'probe', image });
  const probeUrl = `${stack.gateway.url}/function/probe.${stack.gateway.namespace}`;
  const other = await stack.newRepo('other', { owner: 'OtherTenant' });
  const otherSha = await other.commit({ 'README.md': 'no stack.yml here\n' });

  // Three repositories of the hostile tenant (one repository's newer commit would supersede the others).
  const padding = `# ${'x'.repeat(1023)}\n`.repeat(30 * 1024);
  const files = {
    huge: { 'stack.yml': environmentStack(10) + padding, 'greedy/handler.js': 'module.exports = async () => 1;\n' },
    entries: { 'stack.yml': environmentStack(60_000) },
    bomb: { 'stack.yml': aliasBomb() },
  };
  const repos = { huge: await stack.newRepo('huge'), entries: await stack.newRepo('entries'), bomb: await stack.newRepo('bomb') };
  const shas = {
    huge: await repos.huge.commit(files.huge),
    entries: await repos.entries.commit(files.entries),
    bomb: await repos.bomb.commit(files.bomb),
  };
  assert.ok(environmentStack(60_000).length < 1024 * 1024, 'the entries case is within the default size limit');

  const webhookMs: number[] = [];
  const proxyMs: number[] = [];
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  for (const name of ['huge', 'entries', 'bomb'] as const) assert.equal((await repos[name].push(shas[name])).status, 202);
  const settled = (sha: string) => stack.github.statusesFor(sha, 'gitfaas').find((s) => s.state === 'failure' || s.state === 'success');
  let done = false;
  const probing = (async () => {
    while (!done) {
      const delivery = await other.push(otherSha);
      assert.ok(delivery.status === 202 || delivery.status === 200, `other tenant's delivery: ${delivery.status} ${delivery.text}`);
      webhookMs.push(delivery.ms);
      const started = performance.now();
      const res = await fetch(probeUrl);
      await res.text();
      assert.equal(res.status, 200);
      proxyMs.push(performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  try {
    await waitFor('the three hostile builds to fail', async () => Object.values(shas).every((sha) => settled(sha)), 240_000, 200);
  } finally {
    done = true;
    await probing;
    loopDelay.disable();
  }

  const figures = `webhook p50 ${percentile(webhookMs, 50).toFixed(0)} ms, max ${Math.max(...webhookMs).toFixed(0)} ms (${webhookMs.length}); proxy p50 ${percentile(proxyMs, 50).toFixed(0)} ms, max ${Math.max(...proxyMs).toFixed(0)} ms (${proxyMs.length}); event loop delay max ${(loopDelay.max / 1e6).toFixed(0)} ms`;
  console.log(`# while hostile stacks were read: ${figures}`);
  assert.ok(webhookMs.length >= 5, `enough samples: ${figures}`);
  assert.ok(Math.max(...webhookMs) < BOUND_MS, `another tenant's webhook answer: ${figures}`);
  assert.ok(Math.max(...proxyMs) < BOUND_MS, `the gateway's proxy: ${figures}`);

  const reason = (sha: string) => settled(sha)!;
  assert.equal(reason(shas.huge).state, 'failure');
  assert.match(reason(shas.huge).description ?? '', /^stack\.yml is 30\.\d MiB, more than the limit of 1\.0 MiB \(GITFAAS_MAX_STACK_BYTES\)/);
  assert.equal(reason(shas.entries).state, 'failure');
  assert.match(reason(shas.entries).description ?? '', /^stack\.yml line 8: a collection of 60000 entries, more than the limit of 1000 \(GITFAAS_MAX_ENV_ENTRIES\)/);
  assert.equal(reason(shas.bomb).state, 'failure');
  assert.match(reason(shas.bomb).description ?? '', /^stack\.yml: .*alias/i);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isDnsLabel } from '../../shared/names.js';
import { forkAllowed, previewSettings, previewEnvShape } from './preview-config.js';
import { z } from 'zod';
import { previewName } from './preview-name.js';
import { previewComment, PREVIEW_MARKER } from './preview-comment.js';

test('preview names are <fn>-pr<n>, cut with a hash past 63 characters, never colliding', () => {
  assert.equal(previewName('api', 12), 'api-pr12');
  const long = `a${'b'.repeat(61)}c`;
  const other = `a${'b'.repeat(61)}d`;
  const name = previewName(long, 123456);
  assert.ok(name.length <= 63, name);
  assert.ok(isDnsLabel(name), name);
  assert.match(name, /-[0-9a-f]{6}-pr123456$/);
  assert.notEqual(previewName(other, 123456), name, 'two long names that share a prefix stay apart');
  assert.notEqual(previewName(long, 1), previewName(long, 2));
  // A cut that would end in a dash still gives a DNS label.
  assert.ok(isDnsLabel(previewName(`${'x'.repeat(50)}-${'y'.repeat(20)}`, 7)));
});

test('GITFAAS_PREVIEW_FORKS takes true, false or a list of owners, and refuses anything else', () => {
  const parse = (v: string | undefined) => previewSettings(z.object(previewEnvShape).parse({ GITFAAS_PREVIEW_FORKS: v }));
  assert.equal(forkAllowed(parse(undefined).forks, 'alice'), false);
  assert.equal(forkAllowed(parse('true').forks, 'alice'), true);
  const list = parse('Alice, bob').forks;
  assert.equal(forkAllowed(list, 'alice'), true);
  assert.equal(forkAllowed(list, 'carol'), false);
  assert.throws(() => parse('alice,<bad>'), /expected true, false or a comma-separated list/);
  assert.equal(parse(undefined).ttlMs, 7 * 24 * 3600_000);
  assert.equal(parse(undefined).quota, 10);
});

test('the sticky comment carries the marker and each preview URL and state', () => {
  const body = previewComment({ sha: 'a'.repeat(40), functions: [{ name: 'api', preview: 'api-pr3', url: 'https://o.example.com/api-pr3', state: 'live' }, { name: 'b', preview: 'b-pr3', state: 'failed', detail: 'x | y' }] });
  assert.ok(body.startsWith(PREVIEW_MARKER));
  assert.match(body, /\| api \| \[api-pr3\]\(https:\/\/o\.example\.com\/api-pr3\) \| live \|/);
  assert.match(body, /\| b \| `b-pr3` \| failed: x \\\| y \|/);
});

test('production never takes a preview for its own: not collected, not replaced, labels not forgeable', async () => {
  const { toDeployment, staleFunctions, heldByAnotherRepository } = await import('./deployment.js');
  const { previewLabels, isPreviewOf } = await import('./preview-name.js');
  const source = {
    scm: 'github' as const, owner: 'Alice', repo: 'fns', fullName: 'Alice/fns', repoId: 42, cloneUrl: 'https://github.com/Alice/fns.git',
    private: false, sha: 'a'.repeat(40), branch: 'main', defaultBranch: 'main', namespace: 'gh-alice',
  };
  const build = { kind: 'push' as const, deliveryId: 'd', seq: 1, receivedAt: '2026-01-01T00:00:00Z', source };
  const fn = { name: 'api', image: 'r/api@sha256:1', envVars: {}, labels: {}, annotations: {}, secrets: [] };
  const preview = toDeployment({ ...fn, name: 'api-pr3' }, build);
  preview.labels = { ...preview.labels, ...previewLabels({ ...source, pullRequest: 3 }, 'api') };
  const live = [{ name: 'api-pr3', namespace: 'gh-alice', labels: preview.labels, image: fn.image, replicas: 1, availableReplicas: 1, invocationCount: 0 }];
  assert.deepEqual(staleFunctions(live as never, build, new Set(['api'])), [], 'a production push does not collect previews');
  assert.match(heldByAnotherRepository(live as never, build, 'api-pr3') ?? '', /held by a preview of pull request #3 of Alice\/fns/);
  assert.ok(isPreviewOf(live[0]!, source, 3));
  assert.ok(!isPreviewOf(live[0]!, source, 4));
  assert.ok(!isPreviewOf(live[0]!, { scm: 'gitlab', repoId: 42 }, 3));
  const forged = toDeployment({ ...fn, labels: { 'com.openfaas.cloud.preview': 'true', 'com.openfaas.cloud.preview.pr': '3' } }, build);
  assert.equal(forged.labels?.['com.openfaas.cloud.preview'], undefined);
  assert.equal(forged.labels?.['com.openfaas.cloud.preview.pr'], undefined);
});

// The exact buildctl invocation a remote buildkitd build makes (buildctl is not installed
// here: the argv is the contract, see docs/stack-yml.md "Remote BuildKit").
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildctlArgs, BuildctlImageBuilder } from './buildctl.js';

const req = {
  contextDir: '/state/builds/abc/contexts/hello',
  repository: 'registry.example:5000/gh-alice/hello',
  tag: 'a'.repeat(40),
  buildArgs: { NODE_ENV: 'production', BASE_IMAGE: 'node:20-bookworm-slim' },
  labels: { 'org.opencontainers.image.revision': 'a'.repeat(40) },
  registry: 'registry.example:5000',
  network: 'none' as const,
};

test('buildctl argv: dockerfile frontend, local context, push by name, registry cache in and out, no network for RUN', () => {
  assert.deepEqual(buildctlArgs('tcp://buildkitd:1234', req, '/tmp/m/metadata.json'), [
    '--addr', 'tcp://buildkitd:1234',
    'build',
    '--progress', 'plain',
    '--frontend', 'dockerfile.v0',
    '--local', 'context=/state/builds/abc/contexts/hello',
    '--local', 'dockerfile=/state/builds/abc/contexts/hello',
    '--output', `type=image,name=registry.example:5000/gh-alice/hello:${'a'.repeat(40)},push=true`,
    '--export-cache', 'type=registry,ref=registry.example:5000/gh-alice/hello:buildcache,mode=max',
    '--import-cache', 'type=registry,ref=registry.example:5000/gh-alice/hello:buildcache',
    '--metadata-file', '/tmp/m/metadata.json',
    '--opt', 'force-network-mode=none',
    '--opt', 'build-arg:BASE_IMAGE=node:20-bookworm-slim',
    '--opt', 'build-arg:NODE_ENV=production',
    '--opt', `label:org.opencontainers.image.revision=${'a'.repeat(40)}`,
  ]);
});

test('a build that needs the network (pip requirements) gets the default network', () => {
  assert.ok(!buildctlArgs('tcp://buildkitd:1234', { ...req, network: 'default' }, '/tmp/m').includes('force-network-mode=none'));
});

test('a missing buildctl binary is a clear error, not a hang', async () => {
  const builder = new BuildctlImageBuilder('tcp://127.0.0.1:1', '/nonexistent/buildctl');
  await assert.rejects(builder.build(req, () => {}, AbortSignal.timeout(5000)), /\/nonexistent\/buildctl is not installed \(needed for GITFAAS_BUILDKIT_ADDR\)/);
});

// docker-compose.yml cannot run here (no Docker Hub), but Debian's docker-compose must
// accept it, and it must describe the same parts as scripts/setup.sh, on loopback.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { parse } from 'yaml';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');

async function composeConfig(file: string): Promise<string> {
  const { stdout } = await run('docker-compose', ['-f', file, 'config'], { cwd: root });
  return stdout;
}

test('docker-compose config accepts docker-compose.yml', async () => {
  const config = parse(await composeConfig(path.join(root, 'docker-compose.yml')));
  const services = Object.keys(config.services).sort();
  assert.deepEqual(services, ['builder', 'deployer', 'gateway', 'nats', 'queue-worker', 'redis', 'registry', 'webhooks']);
  for (const [name, service] of Object.entries<Record<string, unknown>>(config.services)) {
    // Host networking keeps every port on the host's 127.0.0.1, as setup.sh does.
    assert.equal(service.network_mode, 'host', `${name} uses the host network`);
    assert.equal(service.ports, undefined, `${name} publishes no port beyond loopback`);
  }
  assert.ok(String(config.services.nats.command).includes('-js'), 'NATS runs with JetStream');
  assert.equal(config.services.gateway.build.dockerfile, 'deploy/Dockerfile');
  const mounts = JSON.stringify(config.services.gateway.volumes);
  assert.match(mounts, /\/var\/run\/docker\.sock/, 'the gateway has the Docker socket');
});

test('docker-compose config rejects a broken file (the check above can fail)', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gitfaas-compose-'));
  try {
    const original = await readFile(path.join(root, 'docker-compose.yml'), 'utf8');
    const broken = path.join(dir, 'docker-compose.yml');
    await writeFile(broken, original.replace('network_mode: host\n    command: ["-js"', 'network_mode: 42\n    command: ["-js"').replace('services:\n', 'services:\n  bad:\n    image: [1, 2]\n'));
    await assert.rejects(composeConfig(broken));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

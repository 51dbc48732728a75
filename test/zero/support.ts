// Pieces the scale-to-zero tests share: a function's desired replicas through the REST API,
// its containers and the Docker events about them (the engine's own record of each wake).
import Docker from 'dockerode';
import type { TestGateway } from '../helpers/gateway.js';
import { containerEvents } from '../helpers/docker-events.js';
import { waitFor } from '../helpers/wait.js';
import { call } from '../gateway/client.js';

const docker = new Docker();

/** Labels making a function go to zero after `duration` without calls. */
export function zeroLabels(duration: string, zero = 'true'): Record<string, string> {
  return { 'com.openfaas.scale.zero': zero, 'com.openfaas.scale.zero-duration': duration };
}

/** Desired replicas as OpenFaaS clients read them (a missing key is 0). */
export async function replicas(gw: TestGateway, name: string): Promise<number> {
  const res = await call(gw, 'GET', `/system/function/${name}?namespace=${gw.namespace}`);
  if (res.status !== 200) throw new Error(`status of ${name} answered ${res.status}: ${res.text}`);
  return res.json().replicas ?? 0;
}

export function waitForZero(gw: TestGateway, name: string, timeoutMs = 60_000): Promise<true> {
  return waitFor(`${name} to reach zero replicas`, async () => (await replicas(gw, name)) === 0, timeoutMs, 100);
}

/** The function's containers: their role label and Docker state ("running", "paused", "exited", "created"). */
export async function containers(gw: TestGateway, name: string): Promise<Array<{ id: string; role: string; state: string }>> {
  const list = await docker.listContainers({
    all: true,
    filters: { label: [`com.gitfaas.instance=${gw.instance}`, `com.gitfaas.function=${name}`, `com.gitfaas.namespace=${gw.namespace}`] },
  });
  return list.map((c) => ({ id: c.Id, role: c.Labels['com.gitfaas.role'], state: c.State }));
}

/** Docker's container events for the function between two times, as "action:role" (seconds resolution, so ask with margin). */
export async function events(gw: TestGateway, name: string, sinceMs: number, untilMs: number): Promise<string[]> {
  const events = await containerEvents({ label: [`com.gitfaas.instance=${gw.instance}`, `com.gitfaas.function=${name}`, `com.gitfaas.namespace=${gw.namespace}`] }, sinceMs, untilMs);
  return events.map((e) => `${e.Action}:${e.Actor?.Attributes?.['com.gitfaas.role']}`);
}

/** Waits until the function's replica containers are in exactly these states. */
export function waitForStates(gw: TestGateway, name: string, states: string[], timeoutMs = 30_000): Promise<true> {
  const want = JSON.stringify([...states].sort());
  return waitFor(`${name}'s replicas to be ${states.join(', ') || 'gone'}`, async () => {
    const got = (await containers(gw, name)).filter((c) => c.role === 'replica').map((c) => c.state);
    return JSON.stringify(got.sort()) === want;
  }, timeoutMs, 100);
}

/** Removes an image tag this test made (never a shared one). */
export async function removeImage(ref: string): Promise<void> {
  await docker.getImage(ref).remove({ force: true });
}

export async function tagImage(from: string, repo: string, tag: string): Promise<string> {
  await docker.getImage(from).tag({ repo, tag });
  return `${repo}:${tag}`;
}

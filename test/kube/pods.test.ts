// The stand-in's kubelet, deployment controller and EndpointSlice controller, driven by the
// real client: a Deployment's pods run as containers of the echo test function, the
// EndpointSlice's address and port answer HTTP, secrets are mounted read-only, the root
// filesystem is read-only but /tmp is writable, scale up/down, a killed container is
// restarted (restartCount), a removed one is replaced, logs (tail, follow), an image that
// cannot be pulled shows ErrImagePull / ImagePullBackOff, and a rolling update keeps a ready
// endpoint throughout.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import Docker from 'dockerode';
import { Log, type V1Deployment, type V1EndpointSlice } from '@kubernetes/client-node';
import { startKubeApi, type KubeApi } from '../fakes/kube-api.js';
import { fixtureImage } from '../helpers/images.js';
import { waitFor } from '../helpers/wait.js';
import { clientsFor, failure, mergePatch, strategicPatch, type Clients } from './client.js';

const SLOW = 120_000;

function fnDeployment(name: string, image: string, version = 'v1'): V1Deployment {
  return {
    metadata: { name, labels: { faas_function: name } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { faas_function: name } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: { faas_function: name } },
        spec: {
          containers: [
            {
              name,
              image,
              env: [{ name: 'VERSION', value: version }],
              ports: [{ containerPort: 8080, name: 'http' }],
              readinessProbe: { httpGet: { path: '/_/ready', port: 8080 }, periodSeconds: 1 },
              securityContext: { readOnlyRootFilesystem: true },
              volumeMounts: [
                { name: 'tmp', mountPath: '/tmp' },
                { name: 'api-key', mountPath: '/var/openfaas/secrets/api-key', readOnly: true },
              ],
            },
          ],
          volumes: [
            { name: 'tmp', emptyDir: {} },
            { name: 'api-key', secret: { secretName: 'api-key' } },
          ],
        },
      },
    },
  };
}

describe('kube-api stand-in: pods on Docker', () => {
  let api: KubeApi;
  let c: Clients;
  let image: string;
  const ns = 'fns';
  const docker = new Docker();

  const slicesOf = async (service: string): Promise<V1EndpointSlice[]> =>
    (await c.discovery.listNamespacedEndpointSlice({ namespace: ns, labelSelector: `kubernetes.io/service-name=${service}` })).items;
  const readyPorts = async (service: string): Promise<number[]> =>
    (await slicesOf(service)).filter((s) => s.endpoints.some((e) => e.conditions?.ready)).map((s) => s.ports![0].port!);
  const call = async (port: number, path = '/') => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`);
    return { status: res.status, body: (await res.json()) as any };
  };
  const podsOf = async (name: string) => (await c.core.listNamespacedPod({ namespace: ns, labelSelector: `faas_function=${name}` })).items;

  before(async () => {
    image = await fixtureImage('echo');
    api = await startKubeApi();
    c = clientsFor(api);
    await c.core.createNamespace({ body: { metadata: { name: ns } } });
    await c.core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'api-key' }, stringData: { 'api-key': 's3cret' } } });
  });
  after(async () => {
    await api?.close();
    const left = await docker.listContainers({ all: true, filters: { label: [`com.gitfaas.kube-standin=${api?.instance}`] } });
    assert.equal(left.length, 0, 'close() removes every container it started');
  });

  test('a Deployment runs, becomes ready, and its EndpointSlice address answers HTTP', { timeout: SLOW }, async () => {
    await c.apps.createNamespacedDeployment({ namespace: ns, body: fnDeployment('echo', image) });
    await c.core.createNamespacedService({ namespace: ns, body: { metadata: { name: 'echo' }, spec: { selector: { faas_function: 'echo' }, ports: [{ name: 'http', port: 8080, targetPort: 8080 }] } } });
    const [port] = await waitFor('a ready endpoint for echo', async () => (await readyPorts('echo')).length === 1 && readyPorts('echo'), SLOW, 200);
    const slice = (await slicesOf('echo'))[0];
    assert.deepEqual(slice.endpoints[0].addresses, ['127.0.0.1']);
    assert.equal(slice.ports?.[0].name, 'http');
    assert.equal(slice.endpoints[0].targetRef?.kind, 'Pod');
    const { status, body } = await call(port, '/hello');
    assert.equal(status, 200);
    assert.equal(body.path, '/hello');
    assert.equal(body.version, 'v1');

    const [pod] = await podsOf('echo');
    assert.equal(pod.status?.phase, 'Running');
    assert.equal(pod.status?.conditions?.find((x) => x.type === 'Ready')?.status, 'True');
    assert.equal(pod.status?.containerStatuses?.[0].restartCount, 0);
    assert.equal(pod.metadata?.ownerReferences?.[0].kind, 'Deployment');
    const d = await waitFor('deployment status', async () => {
      const got = await c.apps.readNamespacedDeployment({ name: 'echo', namespace: ns });
      return got.status?.readyReplicas === 1 && got.status?.observedGeneration === got.metadata?.generation && got;
    }, SLOW);
    assert.equal(d.status?.availableReplicas, 1);
    assert.equal(d.status?.updatedReplicas, 1);
  });

  test('the container: read-only root, writable /tmp, the secret as a read-only file', { timeout: SLOW }, async () => {
    const [pod] = await podsOf('echo');
    const id = api.containerId(ns, pod.metadata!.name!)!;
    const container = docker.getContainer(id);
    const info = await container.inspect();
    assert.equal(info.HostConfig.ReadonlyRootfs, true);
    assert.equal(info.HostConfig.PortBindings['8080/tcp'][0].HostIp, '127.0.0.1');
    const run = async (cmd: string) => {
      const exec = await container.exec({ Cmd: ['sh', '-c', cmd], AttachStdout: true, AttachStderr: true });
      const stream = await exec.start({});
      const out = new PassThrough();
      let text = '';
      out.on('data', (b: Buffer) => (text += b.toString()));
      docker.modem.demuxStream(stream, out, out);
      await new Promise((resolve) => stream.on('end', resolve));
      return { text, code: (await exec.inspect()).ExitCode };
    };
    assert.equal((await run('cat /var/openfaas/secrets/api-key/api-key')).text, 's3cret');
    assert.notEqual((await run('echo x > /var/openfaas/secrets/api-key/other')).code, 0, 'the secret mount is read-only');
    assert.notEqual((await run('echo x > /home/app/file')).code, 0, 'the root filesystem is read-only');
    assert.equal((await run('echo x > /tmp/file && cat /tmp/file')).text.trim(), 'x');
  });

  test('scale through the scale subresource: two ready endpoints, then one', { timeout: SLOW }, async () => {
    await c.apps.patchNamespacedDeploymentScale({ name: 'echo', namespace: ns, body: { spec: { replicas: 2 } } }, mergePatch);
    const ports = await waitFor('two ready endpoints', async () => {
      const p = await readyPorts('echo');
      return p.length === 2 && p;
    }, SLOW, 200);
    const hosts = new Set<string>();
    for (const port of ports) hosts.add((await call(port)).body.hostname);
    assert.equal(hosts.size, 2, 'each endpoint is its own container');
    await c.apps.patchNamespacedDeploymentScale({ name: 'echo', namespace: ns, body: { spec: { replicas: 1 } } }, mergePatch);
    await waitFor('one pod and one slice left', async () => (await podsOf('echo')).length === 1 && (await slicesOf('echo')).length === 1, SLOW, 200);
  });

  test('a killed container is restarted (restartCount 1) and a removed one replaced; endpoints follow', { timeout: SLOW }, async () => {
    const [pod] = await podsOf('echo');
    const name = pod.metadata!.name!;
    const before = api.containerId(ns, name)!;
    await docker.getContainer(before).kill();
    const restarted = await waitFor('the pod to be ready again after the kill', async () => {
      const p = await c.core.readNamespacedPod({ name, namespace: ns });
      const s = p.status?.containerStatuses?.[0];
      return s?.restartCount === 1 && s.ready && p;
    }, SLOW, 200);
    assert.ok(restarted.status?.containerStatuses?.[0].lastState?.terminated, 'lastState records the termination');
    const after = api.containerId(ns, name)!;
    assert.notEqual(after, before);
    const [port] = await waitFor('a ready endpoint after the restart', async () => (await readyPorts('echo')).length === 1 && readyPorts('echo'), SLOW, 200);
    assert.equal((await call(port)).status, 200);

    await docker.getContainer(after).remove({ force: true });
    await waitFor('restartCount 2 and ready', async () => {
      const p = await c.core.readNamespacedPod({ name, namespace: ns });
      return p.status?.containerStatuses?.[0].restartCount === 2 && p.status.containerStatuses[0].ready;
    }, SLOW, 200);
    const [again] = await waitFor('a ready endpoint after the removal', async () => (await readyPorts('echo')).length === 1 && readyPorts('echo'), SLOW, 200);
    assert.equal((await call(again)).status, 200);
  });

  test('pods/log through the client: tail, and follow picks up new lines', { timeout: SLOW }, async () => {
    const [pod] = await podsOf('echo');
    const name = pod.metadata!.name!;
    const log = new Log(c.kc);
    const out = new PassThrough();
    let text = '';
    out.on('data', (b: Buffer) => (text += b.toString()));
    const abort = await log.log(ns, name, 'echo', out, { follow: true, timestamps: true });
    const [port] = await readyPorts('echo');
    await fetch(`http://127.0.0.1:${port}/logged-path`);
    // The echo function logs nothing per call by itself; a container exec writes to its stdout instead.
    const container = docker.getContainer(api.containerId(ns, name)!);
    const exec = await container.exec({ Cmd: ['sh', '-c', 'echo marker-line > /proc/1/fd/1'] });
    await exec.start({});
    await waitFor('the followed log to show the marker', async () => text.includes('marker-line'), 30_000);
    assert.match(text.split('\n').find((l) => l.includes('marker-line'))!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z marker-line$/);
    abort.abort();
    const tail = await c.core.readNamespacedPodLog({ name, namespace: ns, tailLines: 1 });
    assert.equal(tail.trim(), 'marker-line');
    const missing = await failure(c.core.readNamespacedPodLog({ name, namespace: ns, container: 'other' }));
    assert.equal(missing.httpCode, 400);
  });

  test('a rolling update (maxSurge 1, maxUnavailable 0) always keeps a ready endpoint', { timeout: SLOW }, async () => {
    let sawNone = false;
    let done = false;
    const watcher = (async () => {
      while (!done) {
        if ((await readyPorts('echo')).length === 0) sawNone = true;
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const patch = { spec: { template: { spec: { containers: [{ name: 'echo', env: [{ name: 'VERSION', value: 'v2' }] }] } } } };
    // A merge patch replaces the whole containers list, so this one leaves a container without an image.
    const replacedList = await failure(c.apps.patchNamespacedDeployment({ name: 'echo', namespace: ns, body: patch }, mergePatch));
    assert.equal(replacedList.httpCode, 422);
    assert.ok(replacedList.details?.causes?.some((cause) => cause.field === 'spec.template.spec.containers[0].image'), JSON.stringify(replacedList.details));
    // A strategic merge patch merges the list by container name.
    await c.apps.patchNamespacedDeployment({ name: 'echo', namespace: ns, body: patch }, strategicPatch);
    await waitFor('v2 to be the only version served', async () => {
      const ports = await readyPorts('echo');
      if (ports.length !== 1 || (await podsOf('echo')).length !== 1) return false;
      return (await call(ports[0])).body.version === 'v2';
    }, SLOW / 2, 200).catch(async (err) => {
      throw new Error(`${err.message}; pods: ${JSON.stringify((await podsOf('echo')).map((p) => [p.metadata?.name, p.status?.containerStatuses?.[0]?.state]))}`);
    });
    done = true;
    await watcher;
    assert.equal(sawNone, false, 'there was always a ready endpoint');
  });

  test('a container that keeps exiting: restartCount grows, CrashLoopBackOff, no endpoint', { timeout: SLOW }, async () => {
    const crashing = fnDeployment('crashing', image);
    crashing.spec!.template.spec!.containers[0].command = ['sh', '-c', 'echo dying; exit 3'];
    await c.apps.createNamespacedDeployment({ namespace: ns, body: crashing });
    await c.core.createNamespacedService({ namespace: ns, body: { metadata: { name: 'crashing' }, spec: { selector: { faas_function: 'crashing' }, ports: [{ name: 'http', port: 8080 }] } } });
    const seen = new Set<string>();
    const pod = await waitFor('CrashLoopBackOff after restarts', async () => {
      const [p] = await podsOf('crashing');
      const s = p?.status?.containerStatuses?.[0];
      if (s?.state?.waiting?.reason) seen.add(s.state.waiting.reason);
      return seen.has('CrashLoopBackOff') && (s?.restartCount ?? 0) >= 2 && p;
    }, SLOW, 50);
    assert.equal(pod.status?.containerStatuses?.[0].lastState?.terminated?.exitCode, 3);
    assert.equal(pod.status?.conditions?.find((x) => x.type === 'Ready')?.status, 'False');
    assert.deepEqual(await readyPorts('crashing'), []);
    const d = await c.apps.readNamespacedDeployment({ name: 'crashing', namespace: ns });
    assert.equal(d.status?.readyReplicas ?? 0, 0);
    await c.apps.deleteNamespacedDeployment({ name: 'crashing', namespace: ns });
    await c.core.deleteNamespacedService({ name: 'crashing', namespace: ns });
  });

  test('an image that cannot be pulled: ErrImagePull, then ImagePullBackOff', { timeout: SLOW }, async () => {
    const bad = fnDeployment('missing', '127.0.0.1:5000/gitfaas-test/does-not-exist:none');
    await c.apps.createNamespacedDeployment({ namespace: ns, body: bad });
    const seen = new Set<string>();
    await waitFor('ErrImagePull and ImagePullBackOff', async () => {
      for (const p of await podsOf('missing')) {
        const reason = p.status?.containerStatuses?.[0]?.state?.waiting?.reason;
        if (reason) seen.add(reason);
      }
      return seen.has('ErrImagePull') && seen.has('ImagePullBackOff');
    }, SLOW, 50);
    await c.apps.deleteNamespacedDeployment({ name: 'missing', namespace: ns });
    await waitFor('the pods of a deleted deployment to go', async () => (await podsOf('missing')).length === 0, SLOW, 200);
  });
});

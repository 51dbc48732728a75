// The stand-in kubelet's projected volumes, driven by the real client: secret and configMap
// sources with items (key -> path, mode) and defaultMode, read-only inside the container,
// kept current when a source changes (no restart) and left whole while one is missing; a missing source or key keeps the pod
// in ContainerCreating with the kubelet's reason until it appears, unless optional.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import Docker from 'dockerode';
import type { V1Deployment, V1Pod, V1Volume } from '@kubernetes/client-node';
import { startKubeApi, type KubeApi } from '../fakes/kube-api.js';
import { fixtureImage } from '../helpers/images.js';
import { waitFor } from '../helpers/wait.js';
import { clientsFor, type Clients } from './client.js';

const SLOW = 120_000;
const MOUNT = '/var/openfaas/secrets';

function withVolume(name: string, image: string, volume: V1Volume): V1Deployment {
  return {
    metadata: { name },
    spec: {
      replicas: 1,
      selector: { matchLabels: { faas_function: name } },
      template: {
        metadata: { labels: { faas_function: name } },
        spec: {
          containers: [{ name, image, ports: [{ containerPort: 8080 }], volumeMounts: [{ name: volume.name, mountPath: MOUNT, readOnly: true }] }],
          volumes: [volume],
        },
      },
    },
  };
}

describe('kube-api stand-in: projected volumes', () => {
  let api: KubeApi;
  let c: Clients;
  let image: string;
  const ns = 'vols';
  const docker = new Docker();

  const podOf = async (name: string): Promise<V1Pod | undefined> => (await c.core.listNamespacedPod({ namespace: ns, labelSelector: `faas_function=${name}` })).items[0];
  const waitingOf = (pod: V1Pod | undefined) => pod?.status?.containerStatuses?.[0]?.state?.waiting;
  const runningPod = (name: string) => waitFor(`${name} to run`, async () => {
    const pod = await podOf(name);
    const running = pod?.status?.containerStatuses?.[0]?.state?.running !== undefined && api.containerId(ns, pod.metadata!.name!) !== undefined;
    return running ? pod : undefined;
  }, SLOW, 200);
  /** Runs a shell command in the pod's container: its output and exit code. */
  const run = async (pod: V1Pod, cmd: string) => {
    const container = docker.getContainer(api.containerId(ns, pod.metadata!.name!)!);
    const exec = await container.exec({ Cmd: ['sh', '-c', cmd], AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({});
    const out = new PassThrough();
    let text = '';
    out.on('data', (b: Buffer) => (text += b.toString()));
    docker.modem.demuxStream(stream, out, out);
    await new Promise((resolve) => stream.on('end', resolve));
    return { text, code: (await exec.inspect()).ExitCode };
  };

  before(async () => {
    image = await fixtureImage('echo');
    api = await startKubeApi();
    c = clientsFor(api);
    await c.core.createNamespace({ body: { metadata: { name: ns } } });
    await c.core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'creds' }, stringData: { token: 't-1', unused: 'u' } } });
    await c.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'settings' }, data: { level: 'debug' } } });
  });
  after(async () => {
    await api?.close();
  });

  test('secret and configMap sources: items, modes, read-only, and an update reaches the running container', { timeout: SLOW }, async () => {
    const volume: V1Volume = {
      name: 'both',
      projected: {
        // Readable by the function's user (1000): the files are root's, as the kubelet writes them.
        defaultMode: 0o444,
        sources: [{ secret: { name: 'creds', items: [{ key: 'token', path: 'api-token' }] } }, { configMap: { name: 'settings', items: [{ key: 'level', path: 'conf/level', mode: 0o404 }] } }],
      },
    };
    await c.apps.createNamespacedDeployment({ namespace: ns, body: withVolume('both', image, volume) });
    const pod = await runningPod('both');
    assert.equal((await run(pod, `cat ${MOUNT}/api-token`)).text, 't-1');
    assert.equal((await run(pod, `cat ${MOUNT}/conf/level`)).text, 'debug');
    assert.notEqual((await run(pod, `cat ${MOUNT}/unused`)).code, 0, 'a key not in items is not projected');
    assert.equal((await run(pod, `stat -L -c %a ${MOUNT}/api-token ${MOUNT}/conf/level`)).text.trim().split('\n').join(' '), '444 404');
    const write = await run(pod, `echo x > ${MOUNT}/api-token; echo x > ${MOUNT}/new`);
    assert.match(write.text, /Read-only file system[\s\S]*Read-only file system/);
    const container = api.containerId(ns, pod.metadata!.name!);

    await c.core.replaceNamespacedSecret({ name: 'creds', namespace: ns, body: { metadata: { name: 'creds' }, stringData: { token: 't-2' } } });
    await waitFor('the new token in the running container', async () => (await run(pod, `cat ${MOUNT}/api-token`)).text === 't-2', 30_000, 200);
    assert.equal(api.containerId(ns, pod.metadata!.name!), container, 'the same container, not restarted');
    assert.equal((await podOf('both'))?.status?.containerStatuses?.[0].restartCount, 0);
    // While a source is missing the kubelet cannot set the volume up again, so the last content stays whole.
    await c.core.deleteNamespacedConfigMap({ name: 'settings', namespace: ns });
    await c.core.replaceNamespacedSecret({ name: 'creds', namespace: ns, body: { metadata: { name: 'creds' }, stringData: { token: 't-3' } } });
    assert.equal((await run(pod, `cat ${MOUNT}/api-token ${MOUNT}/conf/level`)).text, 't-2debug');
    await c.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'settings' }, data: { level: 'info' } } });
    await waitFor('t-3 and info', async () => (await run(pod, `cat ${MOUNT}/api-token ${MOUNT}/conf/level`)).text === 't-3info', 30_000, 200);
    await c.apps.deleteNamespacedDeployment({ name: 'both', namespace: ns });
  });

  test('a missing source keeps the pod in ContainerCreating with the reason, and it starts once the source exists', { timeout: SLOW }, async () => {
    const volume: V1Volume = { name: 'late', projected: { sources: [{ secret: { name: 'later', items: [{ key: 'later', path: 'later' }] } }] } };
    await c.apps.createNamespacedDeployment({ namespace: ns, body: withVolume('late', image, volume) });
    const waiting = await waitFor('ContainerCreating naming the secret', async () => {
      const w = waitingOf(await podOf('late'));
      return w?.message?.includes('secret "later" not found') && w;
    }, SLOW, 200);
    assert.equal(waiting.reason, 'ContainerCreating');
    assert.equal(api.containerId(ns, (await podOf('late'))!.metadata!.name!), undefined, 'no container runs');
    await c.core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'later' }, stringData: { other: 'x' } } });
    const noKey = await waitFor('the missing key named', async () => {
      const w = waitingOf(await podOf('late'));
      return w?.message?.includes("couldn't find key later in Secret vols/later") && w;
    }, SLOW, 200);
    assert.equal(noKey.reason, 'ContainerCreating');
    await c.core.replaceNamespacedSecret({ name: 'later', namespace: ns, body: { metadata: { name: 'later' }, stringData: { later: 'now' } } });
    const pod = await runningPod('late');
    assert.equal((await run(pod, `cat ${MOUNT}/later`)).text, 'now');
    await c.apps.deleteNamespacedDeployment({ name: 'late', namespace: ns });
  });

  test('an optional source that is missing is left out and the pod starts', { timeout: SLOW }, async () => {
    await c.core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'present' }, stringData: { here: 'yes' } } });
    const volume: V1Volume = { name: 'opt', projected: { sources: [{ secret: { name: 'absent', optional: true } }, { secret: { name: 'present' } }] } };
    await c.apps.createNamespacedDeployment({ namespace: ns, body: withVolume('opt', image, volume) });
    const pod = await runningPod('opt');
    assert.equal((await run(pod, `ls ${MOUNT}`)).text.trim(), 'here');
    await c.apps.deleteNamespacedDeployment({ name: 'opt', namespace: ns });
  });
});

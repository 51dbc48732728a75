// A stand-in for the Kubernetes API server on 127.0.0.1 (random port), for the Kubernetes
// provider's tests: the real @kubernetes/client-node talks to it through the kubeconfig it
// writes. It serves core/v1 (namespaces, services, secrets, configmaps, pods, pods/log),
// apps/v1 deployments (+ scale, status) and discovery.k8s.io/v1 endpointslices with the
// API server's verbs and semantics (see kube/rest.ts, kube/validate.ts, kube/watch.ts), and
// plays kubelet, deployment controller and EndpointSlice controller for real: pods run as
// Docker containers published on 127.0.0.1 (kube/kubelet.ts). pause()/resume() take the
// listener away and back, for tests of an API server that is down.
// Not modelled (on purpose, to stay small): ReplicaSet objects (pods are owned by their
// Deployment directly), more than one container per pod (only the first runs), exec
// probes (counted as passing), imagePullSecrets (ignored: the local registry needs none),
// server-side apply, RBAC (one bearer token may do everything).
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { DeploymentController } from './kube/deployments.js';
import { EndpointsController } from './kube/endpoints.js';
import { INSTANCE_LABEL, Kubelet } from './kube/kubelet.js';
import { serveLog } from './kube/logs.js';
import { handle, sendJson } from './kube/rest.js';
import { route } from './kube/routes.js';
import { KubeError } from './kube/status.js';
import { Store } from './kube/store.js';

export interface KubeApiOptions {
  /** Bearer token the kubeconfig carries and the server requires. Random by default. */
  token?: string;
  /** How many change events watches can resume from before a 410 (default 1000). */
  historyLimit?: number;
  /** BOOKMARK interval for watches that allow them (default 1000 ms). */
  bookmarkIntervalMs?: number;
  /** Longest probe period actually used (default 500 ms): tests need not wait out 10 s defaults. */
  probePeriodCapMs?: number;
  /** Delay between a pod's deletion and SIGTERM to its container, standing for endpoint propagation (default 1000 ms). */
  terminationDelayMs?: number;
  /** Longest grace period before SIGKILL (default 2 s). */
  maxGraceSeconds?: number;
  /** Longest crash / pull back-off (default 5000 ms). */
  maxBackoffMs?: number;
  /** Namespaces that exist at start (default: default, kube-system, kube-public). */
  namespaces?: string[];
  /** Receives errors of the controllers and the kubelet (default: printed to stderr). */
  onError?: (err: unknown) => void;
}

export interface KubeApi {
  url: string;
  kubeconfigPath: string;
  token: string;
  /** Label com.gitfaas.kube-standin=<instance> is on every container this stand-in starts. */
  instance: string;
  store: Store;
  /** The host port a pod's container is published on, while it runs. */
  publishedPort(namespace: string, pod: string): number | undefined;
  /** The Docker container running a pod now. */
  containerId(namespace: string, pod: string): string | undefined;
  /** Drops the whole watch history: every watch resuming from an older resourceVersion gets 410. */
  compact(): void;
  /** Stops listening and cuts every connection (watches included): the API server is down. Pods keep running. */
  pause(): Promise<void>;
  /** Listens again on the same port. */
  resume(): Promise<void>;
  close(): Promise<void>;
}

/** Containers of stand-ins whose test process is gone ("test-<pid>-..."). */
async function removeLeftovers(docker: Docker): Promise<void> {
  const all = await docker.listContainers({ all: true, filters: { label: [INSTANCE_LABEL] } });
  for (const c of all) {
    const m = /^test-(\d+)-/.exec(c.Labels[INSTANCE_LABEL] ?? '');
    if (!m) continue;
    try {
      process.kill(Number(m[1]), 0);
    } catch {
      await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
    }
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function authorized(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header ?? '');
  const wanted = Buffer.from(`Bearer ${token}`);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

export async function startKubeApi(opts: KubeApiOptions = {}): Promise<KubeApi> {
  const token = opts.token ?? randomBytes(24).toString('hex');
  const instance = `test-${process.pid}-${randomBytes(4).toString('hex')}`;
  const onError = opts.onError ?? ((err: unknown) => console.error('kube-api stand-in:', err));
  const docker = new Docker();
  await removeLeftovers(docker);
  const dir = await mkdtemp(path.join(tmpdir(), 'kube-standin-'));
  const store = new Store(opts.historyLimit ?? 1000);
  for (const name of opts.namespaces ?? ['default', 'kube-system', 'kube-public']) {
    store.create('namespaces', { metadata: { name, labels: { 'kubernetes.io/metadata.name': name } }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } });
  }
  const kubelet = new Kubelet(store, docker, {
    instance,
    volumesDir: path.join(dir, 'volumes'),
    probePeriodCapMs: opts.probePeriodCapMs ?? 500,
    terminationDelayMs: opts.terminationDelayMs ?? 1000,
    maxGraceSeconds: opts.maxGraceSeconds ?? 2,
    maxBackoffMs: opts.maxBackoffMs ?? 5000,
    onError,
  });
  await kubelet.start();
  const deployments = new DeploymentController(store, onError);
  const endpoints = new EndpointsController(store, (uid) => kubelet.publishedPort(uid), onError);
  const podUid = (namespace: string, pod: string) => store.get('pods', namespace, pod)?.metadata.uid;

  const ctx = {
    store,
    bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 1000,
    serveLog: (req: IncomingMessage, res: ServerResponse, pod: any, q: URLSearchParams) => serveLog(docker, kubelet.publishedPort(pod.metadata.uid) ? kubelet.containerId(pod.metadata.uid) : undefined, req, res, pod, q),
  };

  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    void (async () => {
      try {
        const url = new URL(req.url ?? '/', 'http://127.0.0.1');
        if (url.pathname === '/healthz' || url.pathname === '/readyz' || url.pathname === '/livez') {
          res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
          return;
        }
        if (!authorized(req.headers.authorization, token)) throw new KubeError(401, 'Unauthorized', 'Unauthorized');
        if (url.pathname === '/version') return sendJson(res, 200, { major: '1', minor: '31', gitVersion: 'v1.31.0-gitfaas-standin', platform: 'linux/amd64' });
        const r = route(url.pathname);
        if (!r) throw new KubeError(404, 'NotFound', 'the server could not find the requested resource');
        await handle(ctx, req, res, r, url, await readBody(req));
      } catch (err) {
        if (res.headersSent) {
          res.destroy();
          return;
        }
        if (err instanceof KubeError) return sendJson(res, err.code, err.toStatus());
        onError(err);
        sendJson(res, 500, new KubeError(500, 'InternalError', `Internal error occurred: ${(err as Error).message}`).toStatus());
      }
    })();
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  const kubeconfigPath = path.join(dir, 'kubeconfig');
  await writeFile(
    kubeconfigPath,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: standin',
      '  cluster:',
      `    server: ${url}`,
      // Plain HTTP on loopback: the client refuses http:// servers unless told to skip TLS verification.
      '    insecure-skip-tls-verify: true',
      'users:',
      '- name: standin',
      '  user:',
      `    token: ${token}`,
      'contexts:',
      '- name: standin',
      '  context:',
      '    cluster: standin',
      '    user: standin',
      '    namespace: default',
      'current-context: standin',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );

  let paused = false;
  const stopListening = async () => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of sockets) s.destroy();
    await closed;
  };
  let closed = false;
  return {
    url,
    kubeconfigPath,
    token,
    instance,
    store,
    publishedPort: (namespace, pod) => {
      const uid = podUid(namespace, pod);
      return uid ? kubelet.publishedPort(uid) : undefined;
    },
    containerId: (namespace, pod) => {
      const uid = podUid(namespace, pod);
      return uid ? kubelet.containerId(uid) : undefined;
    },
    compact: () => store.compact(),
    async pause() {
      if (paused) return;
      paused = true;
      await stopListening();
    },
    async resume() {
      if (!paused) return;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => {
          server.off('error', reject);
          resolve();
        });
      });
      paused = false;
    },
    async close() {
      if (closed) return;
      closed = true;
      if (!paused) await stopListening();
      deployments.close();
      endpoints.close();
      await kubelet.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

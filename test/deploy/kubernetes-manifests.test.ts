// deploy/kubernetes: every object validates against the Kubernetes schemas
// (kubernetes-models), and what a schema cannot see holds: selectors match pod labels,
// Services and probes name ports that exist, every container is locked down, every
// environment variable the platform's containers get is documented, every command is one
// this repository's build produces, and the overlay for an external registry applies.
// (kubernetes-models checks types and required fields, not unknown field names: the checks
// below read the fields that matter by name, so a misspelt one fails there.)
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { repoRoot } from '../helpers/repo-root.js';
import { buildKustomization, containersOf, podSpecOf, splitImage, type K8sObject } from './kustomize.js';
import { parseAllDocuments } from 'yaml';

const root = repoRoot();
const kube = path.join(root, 'deploy/kubernetes');
const PLATFORM_IMAGE = 'gitfaas/gitfaas';
/**
 * Pods that cannot meet Pod Security "restricted", and why (also said in their manifest):
 * rootless BuildKit needs setuid newuidmap and mounts in a user namespace.
 */
const RELAXED: Record<string, string> = { buildkitd: 'rootless BuildKit: user namespaces through setuid helpers, mounts that RuntimeDefault seccomp refuses' };

/** The kubectl binary, if this machine has one. */
function kubectl(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) if (dir && existsSync(path.join(dir, 'kubectl'))) return path.join(dir, 'kubectl');
  return undefined;
}

async function validate(o: K8sObject): Promise<void> {
  const [group, version] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : ['', o.apiVersion];
  const mod = (await import(`kubernetes-models/${group ? `${group}/` : ''}${version}`)) as Record<string, new (data: unknown) => { validate(): void }>;
  const Model = mod[o.kind];
  assert.ok(Model, `kubernetes-models knows no ${o.apiVersion} ${o.kind}`);
  new Model(o).validate();
}

const byKind = (objects: K8sObject[], kind: string) => objects.filter((o) => o.kind === kind);
const workloads = (objects: K8sObject[]) => objects.filter((o) => podSpecOf(o));
const matches = (selector: Record<string, string>, labels: Record<string, string> = {}) => Object.entries(selector).every(([k, v]) => labels[k] === v);
const id = (o: K8sObject) => `${o.kind}/${o.metadata.name}`;

/** Is the variable in docs/configuration.md? `X_FILE` counts when its row says `X` ... `_FILE`. */
function documented(doc: string, name: string): boolean {
  if (new RegExp(`\`${name}\``).test(doc)) return true;
  const base = name.endsWith('_FILE') ? name.slice(0, -'_FILE'.length) : undefined;
  return base !== undefined && doc.split('\n').some((line) => line.includes(`\`${base}\``) && line.includes('_FILE'));
}

/** Variables the platform's containers get (env and envFrom ConfigMaps) that the doc does not name; checks *_FILE paths on the way. */
async function undocumentedEnv(objects: K8sObject[]): Promise<string[]> {
  const doc = await readFile(path.join(root, 'docs/configuration.md'), 'utf8');
  const configMaps = new Map(byKind(objects, 'ConfigMap').map((c) => [c.metadata.name, c.data ?? {}]));
  const undocumented = new Set<string>();
  for (const w of workloads(objects)) {
    for (const c of podSpecOf(w).containers) {
      if (splitImage(c.image)[0] !== PLATFORM_IMAGE) continue;
      const env: [string, string | undefined][] = (c.env ?? []).map((e: any) => [e.name, e.value]);
      for (const from of c.envFrom ?? []) {
        const data = configMaps.get(from.configMapRef?.name);
        assert.ok(data, `${id(w)}: ConfigMap ${from.configMapRef?.name} exists`);
        env.push(...Object.entries(data as Record<string, string>));
      }
      for (const [name, value] of env) {
        if (!documented(doc, name)) undocumented.add(`${name} (${id(w)})`);
        if (name.endsWith('_FILE') && value) {
          assert.ok((c.volumeMounts ?? []).some((m: any) => value.startsWith(`${m.mountPath}/`)), `${id(w)}: ${name}=${value} lies in a mounted volume`);
        }
      }
    }
  }
  return [...undocumented];
}

describe('deploy/kubernetes', () => {
  let objects: K8sObject[];
  let files: string[];
  before(async () => {
    ({ objects, files } = await buildKustomization(kube));
  });

  test('every file of the base is listed in its kustomization, and every object validates against the Kubernetes schemas', async () => {
    const onDisk = (await readdir(path.join(kube, 'base'))).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    assert.deepEqual([...onDisk].sort(), files.map((f) => path.relative('base', f)).sort());
    assert.ok(objects.length >= 20, `${objects.length} objects`);
    for (const o of objects) {
      await validate(o).catch((err: Error) => assert.fail(`${id(o)}: ${err.message}`));
      const ns = o.metadata.name.startsWith('buildkitd') ? 'gitfaas-build' : 'gitfaas';
      if (o.kind !== 'Namespace' && !o.kind.startsWith('Cluster')) assert.equal(o.metadata.namespace, ns, `${id(o)} lives in ${ns}`);
    }
    const names = objects.map(id);
    assert.equal(new Set(names).size, names.length, 'no object twice');
    for (const want of ['Deployment/gateway', 'Service/gateway', 'Deployment/webhooks', 'Service/webhooks', 'Ingress/gitfaas', 'Deployment/builder', 'Deployment/buildkitd', 'Service/buildkitd', 'Deployment/deployer', 'Deployment/queue-worker', 'StatefulSet/redis', 'StatefulSet/nats', 'Deployment/registry', 'PersistentVolumeClaim/registry', 'ClusterRole/gitfaas-gateway']) {
      assert.ok(names.includes(want), `${want} is there`);
    }
  });

  test('Pod Security: "restricted" enforced on the platform\'s namespace; only buildkitd lives in the namespace that allows it less', () => {
    const level = (name: string) => objects.find((o) => o.kind === 'Namespace' && o.metadata.name === name)?.metadata.labels?.['pod-security.kubernetes.io/enforce'];
    assert.equal(level('gitfaas'), 'restricted');
    assert.equal(level('gitfaas-build'), 'privileged');
    assert.deepEqual(workloads(objects).filter((w) => w.metadata.namespace !== 'gitfaas').map(id), ['Deployment/buildkitd']);
  });

  test('the schema check can fail: a Deployment with a string for replicas is refused', async () => {
    const gateway = structuredClone(objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'gateway')!);
    gateway.spec.replicas = 'two';
    await assert.rejects(validate(gateway), /replicas must be integer/);
  });

  test('replicas: the gateway 2, the queue-worker scaled out, NATS 3 with a file store volume each, Redis with AOF on its volume', () => {
    const get = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name)!;
    assert.equal(get('Deployment', 'gateway').spec.replicas, 2);
    assert.ok(get('Deployment', 'queue-worker').spec.replicas >= 2);
    const nats = get('StatefulSet', 'nats');
    assert.equal(nats.spec.replicas, 3);
    assert.equal(nats.spec.volumeClaimTemplates[0].metadata.name, 'data');
    const natsConf = get('ConfigMap', 'nats-config').data['nats.conf'] as string;
    assert.match(natsConf, /jetstream \{\s*store_dir: \/data/);
    for (let i = 0; i < 3; i++) assert.ok(natsConf.includes(`nats-${i}.${nats.spec.serviceName}.gitfaas.svc.cluster.local:6222`), `route to nats-${i}`);
    assert.equal(get('ConfigMap', 'gitfaas-config').data.GITFAAS_ASYNC_REPLICAS, '3', 'streams replicated over the three servers');
    const redis = get('StatefulSet', 'redis');
    const args = (redis.spec.template.spec.containers[0].command as string[]).join(' ');
    assert.match(args, /--appendonly yes/);
    assert.match(args, /--dir \/data/);
    assert.match(args, /--maxmemory-policy noeviction/, 'BullMQ needs noeviction');
    assert.ok(redis.spec.template.spec.containers[0].volumeMounts.some((m: { name: string; mountPath: string }) => m.name === 'data' && m.mountPath === '/data'));
  });

  test('selectors match their pods; Services, StatefulSets and the Ingress point at ports and Services that exist', () => {
    for (const w of workloads(objects)) {
      assert.ok(matches(w.spec.selector.matchLabels, w.spec.template.metadata.labels), `${id(w)}: selector matches its pod labels`);
    }
    for (const s of byKind(objects, 'Service')) {
      const targets = workloads(objects).filter((w) => w.metadata.namespace === s.metadata.namespace && matches(s.spec.selector, w.spec.template.metadata.labels));
      assert.equal(targets.length, 1, `${id(s)} selects exactly one workload's pods`);
      const ports = targets[0].spec.template.spec.containers.flatMap((c: any) => c.ports ?? []);
      for (const p of s.spec.ports) {
        const found = ports.find((cp: any) => (typeof p.targetPort === 'string' ? cp.name === p.targetPort : cp.containerPort === (p.targetPort ?? p.port)));
        assert.ok(found, `${id(s)} port ${p.name}: target ${p.targetPort} is a container port of ${id(targets[0])}`);
      }
    }
    for (const ss of byKind(objects, 'StatefulSet')) {
      assert.ok(byKind(objects, 'Service').some((s) => s.metadata.name === ss.spec.serviceName), `${id(ss)}: its serviceName ${ss.spec.serviceName} exists`);
    }
    for (const ing of byKind(objects, 'Ingress')) {
      for (const rule of ing.spec.rules) {
        for (const p of rule.http.paths) {
          const svc = byKind(objects, 'Service').find((s) => s.metadata.name === p.backend.service.name && s.metadata.namespace === ing.metadata.namespace);
          assert.ok(svc, `${id(ing)}: Service ${p.backend.service.name} exists`);
          assert.ok(svc.spec.ports.some((sp: any) => sp.name === p.backend.service.port.name), `${id(ing)}: port ${p.backend.service.port.name} of ${id(svc)}`);
        }
      }
    }
  });

  test('the platform\'s addresses in its config name Services and ports that exist', () => {
    const config = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'gitfaas-config')!.data as Record<string, string>;
    const builder = objects.find((o) => o.metadata.name === 'builder' && o.kind === 'Deployment')!;
    const buildkit = builder.spec.template.spec.containers[0].env.find((e: any) => e.name === 'GITFAAS_BUILDKIT_ADDR').value;
    const urls = [config.GITFAAS_REDIS_URL, config.GITFAAS_NATS_URL, config.GITFAAS_GATEWAY_URL, `http://${config.GITFAAS_REGISTRY}`, buildkit];
    for (const url of urls) {
      const u = new URL(url);
      const m = /^([a-z0-9-]+)\.([a-z0-9-]+)\.svc\.cluster\.local$/.exec(u.hostname);
      assert.ok(m, `${url} is a Service's cluster name`);
      const svc = byKind(objects, 'Service').find((s) => s.metadata.name === m[1] && s.metadata.namespace === m[2]);
      assert.ok(svc, `${url}: Service ${m[1]} exists`);
      assert.ok(svc.spec.ports.some((p: any) => String(p.port) === u.port), `${url}: Service ${m[1]} has port ${u.port}`);
    }
  });

  test('every container has probes on existing ports, requests and limits, and a restrictive securityContext (buildkitd\'s exceptions named)', () => {
    for (const w of workloads(objects)) {
      const pod = podSpecOf(w);
      const relaxed = RELAXED[w.metadata.name];
      assert.equal(pod.securityContext?.runAsNonRoot, true, `${id(w)}: runAsNonRoot`);
      assert.ok(pod.securityContext.runAsUser > 0, `${id(w)}: a non-root uid`);
      if (!relaxed) assert.equal(pod.securityContext.seccompProfile?.type, 'RuntimeDefault', `${id(w)}: seccomp RuntimeDefault`);
      if (w.metadata.name !== 'gateway') assert.equal(pod.automountServiceAccountToken, false, `${id(w)}: no API token it does not need`);
      for (const c of pod.containers) {
        const where = `${id(w)} container ${c.name}`;
        const ports = new Set((c.ports ?? []).map((p: any) => p.name));
        for (const probe of ['readinessProbe', 'livenessProbe']) {
          const p = c[probe];
          assert.ok(p, `${where}: ${probe}`);
          const port = p.httpGet?.port ?? p.tcpSocket?.port;
          if (typeof port === 'string') assert.ok(ports.has(port), `${where}: ${probe} names port ${port}, which it has`);
          assert.ok(p.httpGet || p.tcpSocket || p.exec || p.grpc, `${where}: ${probe} has a check`);
        }
        for (const kind of ['requests', 'limits']) for (const r of ['cpu', 'memory']) assert.ok(c.resources?.[kind]?.[r], `${where}: resources.${kind}.${r}`);
        assert.equal(c.securityContext?.privileged ?? false, false, `${where}: not privileged`);
        assert.equal(c.securityContext?.readOnlyRootFilesystem, true, `${where}: readOnlyRootFilesystem`);
        if (relaxed) continue;
        assert.equal(c.securityContext?.allowPrivilegeEscalation, false, `${where}: allowPrivilegeEscalation false`);
        assert.deepEqual(c.securityContext?.capabilities?.drop, ['ALL'], `${where}: drops ALL capabilities`);
        assert.equal(c.securityContext?.capabilities?.add, undefined, `${where}: adds none`);
      }
    }
    // The exception is what it says: still a non-root uid, and its reason is in its manifest.
    const buildkitd = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'buildkitd')!;
    assert.equal(podSpecOf(buildkitd).securityContext.seccompProfile.type, 'Unconfined');
    assert.equal(podSpecOf(buildkitd).securityContext.runAsUser, 1000);
  });

  test('the gateway runs the Kubernetes provider with its own service account, whose ClusterRole grants only what the provider uses', () => {
    const gateway = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'gateway')!;
    const pod = podSpecOf(gateway);
    assert.equal(pod.serviceAccountName, 'gitfaas-gateway');
    assert.equal(pod.containers[0].env.find((e: any) => e.name === 'GITFAAS_PROVIDER')?.value, 'kubernetes');
    const binding = objects.find((o) => o.kind === 'ClusterRoleBinding' && o.metadata.name === 'gitfaas-gateway')!;
    assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'gitfaas-gateway', namespace: 'gitfaas' }]);
    const role = objects.find((o) => o.kind === 'ClusterRole' && o.metadata.name === binding.roleRef.name)!;
    const granted = new Map<string, Set<string>>();
    for (const rule of role.rules) {
      for (const g of rule.apiGroups) for (const r of rule.resources) {
        assert.ok(g !== '*' && r !== '*' && !rule.verbs.includes('*'), 'no wildcards');
        granted.set(`${g}/${r}`, new Set(rule.verbs));
      }
    }
    const needed: Record<string, string[]> = {
      'apps/deployments': ['get', 'list', 'watch', 'create', 'update', 'delete'],
      'apps/deployments/scale': ['get', 'update'],
      '/services': ['get', 'list', 'create', 'update', 'delete'],
      '/secrets': ['get', 'list', 'create', 'update', 'delete'],
      '/pods': ['list'],
      '/pods/log': ['get'],
      'discovery.k8s.io/endpointslices': ['list', 'watch'],
      '/namespaces': ['get', 'list', 'create'],
    };
    assert.deepEqual([...granted.keys()].sort(), Object.keys(needed).sort(), 'exactly these resources');
    for (const [r, verbs] of Object.entries(needed)) for (const v of verbs) assert.ok(granted.get(r)!.has(v), `${r}: ${v}`);
    for (const verbs of granted.values()) assert.ok(!verbs.has('deletecollection') && !verbs.has('escalate') && !verbs.has('bind') && !verbs.has('impersonate'));
  });

  test('every variable the platform\'s containers get is documented in docs/configuration.md, and every *_FILE is a mounted file', async () => {
    assert.deepEqual(await undocumentedEnv(objects), [], 'variables set by the manifests but not in docs/configuration.md');
  });

  test('every command is one the build produces, and every image is this repository\'s or pinned (buildkitd matching the image\'s buildctl)', async () => {
    const dockerfile = await readFile(path.join(root, 'deploy/Dockerfile'), 'utf8');
    assert.match(dockerfile, /COPY --from=buildkit \/usr\/bin\/buildctl /, 'the image has buildctl, for GITFAAS_BUILDKIT_ADDR');
    const buildkitStage = /^FROM (moby\/buildkit:\S+) AS buildkit$/m.exec(dockerfile)?.[1];
    assert.ok(buildkitStage, 'the Dockerfile names its BuildKit version');
    const tsconfig = JSON.parse(await readFile(path.join(root, 'tsconfig.json'), 'utf8'));
    const outDir = String(tsconfig.compilerOptions.outDir).replace(/^\.\//, '');
    assert.match(dockerfile, new RegExp(`COPY --from=build /app/${outDir} `), 'the compiled output is in the image');
    for (const c of containersOf(objects)) {
      const [name, tag] = splitImage(c.image);
      if (name === PLATFORM_IMAGE) {
        assert.equal(tag, '0.1.0', 'the kustomization sets the platform image tag');
        const [bin, script, ...rest] = c.command as string[];
        assert.equal(bin, 'node');
        assert.deepEqual(rest, []);
        const m = new RegExp(`^${outDir}/(services/[a-z-]+/main)\\.js$`).exec(script);
        assert.ok(m, `${c.name}: ${script} is a service's compiled main`);
        assert.ok(existsSync(path.join(root, `${m[1]}.ts`)), `${m[1]}.ts exists`);
      } else {
        assert.ok(tag && tag !== 'latest' && /\d/.test(tag), `${c.image}: a pinned version`);
        if (name === 'moby/buildkit') assert.equal(c.image, buildkitStage, 'buildkitd is the BuildKit version the image\'s buildctl comes from');
      }
    }
  });

  test('kubectl kustomize (the real thing) builds base and overlay into the same objects as the reader these tests use', { skip: kubectl() ? false : 'kubectl is not installed here: the reader alone is checked' }, async () => {
    for (const dir of ['', 'overlays/external-registry']) {
      const built = parseAllDocuments(execFileSync(kubectl()!, ['kustomize', path.join(kube, dir)], { encoding: 'utf8' })).map((d) => d.toJS() as K8sObject);
      const { objects: ours } = await buildKustomization(path.join(kube, dir));
      const key = (o: K8sObject) => `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`;
      assert.deepEqual(built.map(key).sort(), ours.map(key).sort(), `${dir || 'base'}: the same objects`);
      for (const o of built) assert.deepEqual(o, ours.find((x) => key(x) === key(o)), `${dir || 'base'}: ${key(o)} is the same`);
    }
  });

  test('the external-registry overlay drops the in-cluster registry and points everything at the external one', async () => {
    const { objects: overlay } = await buildKustomization(path.join(kube, 'overlays/external-registry'));
    for (const o of overlay) await validate(o).catch((err: Error) => assert.fail(`${id(o)}: ${err.message}`));
    assert.deepEqual(overlay.filter((o) => o.metadata.name === 'registry').map(id), [], 'no registry Deployment, Service or volume');
    const config = overlay.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'gitfaas-config')!.data;
    assert.equal(config.GITFAAS_REGISTRY, 'registry.example.com');
    assert.equal(config.GITFAAS_REDIS_URL, objects.find((o) => o.metadata.name === 'gitfaas-config')!.data.GITFAAS_REDIS_URL, 'the rest of the config is kept');
    const gateway = podSpecOf(overlay.find((o) => o.kind === 'Deployment' && o.metadata.name === 'gateway')!);
    const gw = gateway.containers[0];
    const pull = gw.env.find((e: any) => e.name === 'GITFAAS_KUBE_IMAGE_PULL_SECRET_FILE');
    assert.ok(pull, 'the gateway hands registry credentials to functions');
    assert.ok(gw.env.some((e: any) => e.name === 'GITFAAS_PROVIDER'), 'the patch adds to the env, keeps the rest');
    assert.ok(gw.volumeMounts.some((m: any) => pull.value.startsWith(`${m.mountPath}/`) && gateway.volumes.some((v: any) => v.name === m.name && v.secret?.secretName === 'gitfaas-registry')));
    const builder = podSpecOf(overlay.find((o) => o.kind === 'Deployment' && o.metadata.name === 'builder')!).containers[0];
    assert.ok(builder.env.some((e: any) => e.name === 'DOCKER_CONFIG'), 'buildctl finds the push credentials');
    assert.ok(builder.env.some((e: any) => e.name === 'GITFAAS_BUILDKIT_ADDR'));
    assert.deepEqual(await undocumentedEnv(overlay), [], 'the overlay\'s variables are documented too');
  });
});

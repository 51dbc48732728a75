// The defaulting the API server applies to what it stores, for the fields a client reads
// back (replicas, strategy, a Service's clusterIP and targetPort, a Secret's type and its
// stringData folded into data, a namespace's phase).
import { randomInt } from 'node:crypto';

export function applyDefaults(plural: string, obj: any): void {
  if (plural === 'deployments') defaultDeployment(obj);
  if (plural === 'pods' && obj.spec) defaultPodSpec(obj.spec);
  if (plural === 'services') defaultService(obj);
  if (plural === 'secrets') defaultSecret(obj);
  if (plural === 'namespaces') {
    obj.metadata.labels = { ...obj.metadata.labels, 'kubernetes.io/metadata.name': obj.metadata.name };
    obj.spec = { finalizers: ['kubernetes'], ...obj.spec };
  }
}

function defaultDeployment(obj: any): void {
  const spec = obj.spec;
  spec.replicas ??= 1;
  spec.revisionHistoryLimit ??= 10;
  spec.progressDeadlineSeconds ??= 600;
  spec.strategy ??= { type: 'RollingUpdate' };
  if ((spec.strategy.type ?? 'RollingUpdate') === 'RollingUpdate') {
    spec.strategy.type = 'RollingUpdate';
    spec.strategy.rollingUpdate = { maxUnavailable: '25%', maxSurge: '25%', ...spec.strategy.rollingUpdate };
  }
  if (spec.template?.spec) defaultPodSpec(spec.template.spec);
}

function defaultPodSpec(spec: any): void {
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  for (const c of spec.containers ?? []) {
    c.imagePullPolicy ??= /:latest$|^[^:]*$/.test(c.image ?? '') ? 'Always' : 'IfNotPresent';
    c.terminationMessagePath ??= '/dev/termination-log';
    for (const p of c.ports ?? []) p.protocol ??= 'TCP';
  }
}

function defaultService(obj: any): void {
  const spec = (obj.spec ??= {});
  spec.type ??= 'ClusterIP';
  spec.sessionAffinity ??= 'None';
  if (spec.clusterIP !== 'None') spec.clusterIP ??= `10.96.${randomInt(0, 255)}.${randomInt(1, 254)}`;
  if (spec.clusterIP) spec.clusterIPs ??= [spec.clusterIP];
  for (const p of spec.ports ?? []) {
    p.protocol ??= 'TCP';
    p.targetPort ??= p.port;
  }
}

function defaultSecret(obj: any): void {
  obj.type ??= 'Opaque';
  if (obj.stringData) {
    obj.data = { ...obj.data };
    for (const [k, v] of Object.entries(obj.stringData)) obj.data[k] = Buffer.from(String(v)).toString('base64');
    delete obj.stringData;
  }
}

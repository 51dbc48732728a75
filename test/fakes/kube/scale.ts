// The scale subresource (autoscaling/v1 Scale) of a Deployment.
import { selectorString } from './selector.js';
import { badRequest, conflict } from './status.js';
import { resourceType } from './resources.js';
import type { Store } from './store.js';
import { invalid } from './status.js';

export function readScale(deployment: any): any {
  const m = deployment.metadata;
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp },
    spec: { replicas: deployment.spec.replicas },
    status: { replicas: deployment.status?.replicas ?? 0, selector: selectorString(deployment.spec.selector) },
  };
}

/** Sets spec.replicas from a Scale; a Scale carrying another resourceVersion is a 409. */
export function writeScale(store: Store, namespace: string, name: string, scale: any, patched = false): any {
  const type = resourceType('deployments');
  if (!scale || typeof scale !== 'object') throw badRequest('the body must be a Scale object');
  if (scale.kind !== undefined && scale.kind !== 'Scale') throw badRequest(`the kind of the provided object (${scale.kind}) does not match Scale`);
  const deployment = store.mustGet('deployments', namespace, name);
  const rv = scale.metadata?.resourceVersion;
  if (!patched && rv && rv !== deployment.metadata.resourceVersion) throw conflict(type, name);
  const replicas = scale.spec?.replicas;
  if (!Number.isInteger(replicas) || replicas < 0) {
    throw invalid({ ...type, kind: 'Scale', group: 'autoscaling' }, name, [
      { reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`, field: 'spec.replicas' },
    ]);
  }
  deployment.spec.replicas = replicas;
  return readScale(store.update('deployments', deployment, patched ? undefined : rv));
}

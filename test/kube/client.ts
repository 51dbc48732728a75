// The real @kubernetes/client-node clients, configured from a stand-in's kubeconfig, and
// a helper that reads the Status object out of the client's ApiException.
import { AppsV1Api, CoreV1Api, DiscoveryV1Api, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { KubeApi } from '../fakes/kube-api.js';

export interface Clients {
  kc: KubeConfig;
  core: CoreV1Api;
  apps: AppsV1Api;
  discovery: DiscoveryV1Api;
}

export function clientsFor(api: KubeApi): Clients {
  const kc = new KubeConfig();
  kc.loadFromFile(api.kubeconfigPath);
  return { kc, core: kc.makeApiClient(CoreV1Api), apps: kc.makeApiClient(AppsV1Api), discovery: kc.makeApiClient(DiscoveryV1Api) };
}

export const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
export const strategicPatch = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);

export interface StatusBody {
  kind: string;
  status: string;
  reason: string;
  code: number;
  message: string;
  details?: { name?: string; kind?: string; causes?: Array<{ reason: string; message: string; field?: string }> };
}

/** Runs a call that must fail and answers the API server's Status from the client's error. */
export async function failure(call: Promise<unknown>): Promise<StatusBody & { httpCode: number }> {
  try {
    await call;
  } catch (err: any) {
    if (typeof err?.code !== 'number') throw err;
    const body = typeof err.body === 'string' ? JSON.parse(err.body) : err.body;
    return { ...body, httpCode: err.code };
  }
  throw new Error('the call succeeded but was expected to fail');
}

// A deploy is done when the gateway reports the new image with a replica available and
// the function answers a request through the gateway. "Answers" means any HTTP answer
// from the function itself: 502/503/504 (and no answer) are the gateway saying it could not
// reach a replica; a 4xx or 500 from the handler still proves the new code is up.
import type { GatewayClient } from '../../shared/gateway-client.js';

const NOT_ANSWERING = new Set([0, 502, 503, 504]);

function sameImage(reported: string | undefined, deployed: string): boolean {
  if (!reported) return false;
  if (reported === deployed) return true;
  const digest = /@(sha256:[0-9a-f]{64})$/.exec(deployed)?.[1];
  return digest !== undefined && reported.endsWith(digest);
}

export async function waitUntilAnswering(
  gateway: GatewayClient,
  name: string,
  namespace: string,
  image: string,
  timeoutMs: number,
  intervalMs = 200,
): Promise<{ ms: number }> {
  const started = Date.now();
  let last = 'the gateway does not know the function yet';
  for (;;) {
    const status = await gateway.get(name, namespace).catch((err: Error) => {
      last = err.message;
      return undefined;
    });
    if (status) {
      if (!sameImage(status.image, image)) last = `the gateway still reports image ${status.image}`;
      else if (!(status.availableReplicas > 0)) last = 'no replica is available yet';
      else {
        const code = await gateway.probe(name, namespace);
        if (!NOT_ANSWERING.has(code)) return { ms: Date.now() - started };
        last = code === 0 ? 'the function did not answer' : `calls through the gateway get ${code}`;
      }
    }
    if (Date.now() - started > timeoutMs) {
      throw new Error(`not answering after ${Math.round(timeoutMs / 1000)} s: ${last}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

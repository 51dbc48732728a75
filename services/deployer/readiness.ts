// A deploy is done when the gateway reports the new image with a replica ready and the
// function answers a request through the gateway. The first part is one held request
// (GET /system/function/NAME/ready, answered from the gateway provider's change feed), not
// polling. "Answers" means any HTTP answer from the function itself: 502/503/504 (and no
// answer) are the gateway saying it could not reach a replica; a 4xx or 500 from the
// handler still proves the new code is up. A function that is ready but does not answer yet
// (still warming up) is asked again, with a growing pause, until the deadline.
import type { GatewayClient } from '../../shared/gateway-client.js';

const NOT_ANSWERING = new Set([0, 502, 503, 504]);

export async function waitUntilAnswering(gateway: GatewayClient, name: string, namespace: string, image: string, timeoutMs: number): Promise<{ ms: number }> {
  const started = Date.now();
  const deadline = started + timeoutMs;
  const failed = (why: string) => new Error(`not answering after ${Math.round(timeoutMs / 1000)} s: ${why}`);
  let last = 'the gateway does not know the function yet';
  let pause = 200;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) throw failed(last);
    const readiness = await gateway.waitReady(name, namespace, { timeoutMs: left, image });
    // The gateway held the request until the deadline: its reason says what was missing.
    if (readiness.state === 'not_ready') throw failed(readiness.reason);
    if (readiness.state === 'unknown') {
      // Just deployed, so another gateway process may not have heard of it yet.
      last = `the gateway does not know the function (${readiness.reason})`;
    } else {
      const code = await gateway.probe(name, namespace);
      if (!NOT_ANSWERING.has(code)) return { ms: Date.now() - started };
      last = code === 0 ? 'the function did not answer' : `calls through the gateway get ${code}`;
    }
    if (Date.now() + pause >= deadline) throw failed(last);
    await new Promise((resolve) => setTimeout(resolve, pause));
    pause = Math.min(pause * 2, 1000);
  }
}

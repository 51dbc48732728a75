// Where a wake's time goes, from the Docker engine's own record: the replica's `start` (or
// `unpause`) event splits each wake into "call sent to container running" (the waker's
// decision, create and start in the engine) and "running to answer" (the process coming
// up, the gateway's readiness probe, the proxied call). Read after the rounds, so taking
// it costs the timed calls nothing. Engine and bench share the host's clock.
import { containerEvents } from '../../test/helpers/docker-events.js';

export interface WakeWindow {
  /** Epoch milliseconds: call sent, whole answer read. */
  sentAt: number;
  answeredAt: number;
}


/** The replica start and unpause times (epoch ms) of one function of one gateway instance. */
export async function replicaStarts(instance: string, namespace: string, service: string, sinceMs: number, untilMs: number): Promise<number[]> {
  const events = await containerEvents(
    { event: ['start', 'unpause'], label: [`com.gitfaas.instance=${instance}`, `com.gitfaas.namespace=${namespace}`, `com.gitfaas.function=${service}`, 'com.gitfaas.role=replica'] },
    sinceMs,
    untilMs + 1000,
  );
  return events.map((e) => Number(e.timeNano ?? 0) / 1e6).sort((a, b) => a - b);
}

/**
 * For each wake, milliseconds from the call to its replica running, or undefined when no
 * start or unpause fell inside the wake (the split is then unknown, never guessed).
 */
export function startedAfter(windows: WakeWindow[], starts: number[]): Array<number | undefined> {
  return windows.map((w) => {
    const start = starts.find((s) => s >= w.sentAt && s <= w.answeredAt);
    return start === undefined ? undefined : start - w.sentAt;
  });
}

// What a function at zero keeps on Docker (GITFAAS_ZERO_KEEP), and how it comes back.
//   paused:  the replica's processes are frozen (cgroup freezer): memory stays allocated,
//            no CPU; waking is an unpause, the process is already listening.
//   stopped: the replica is stopped; its container (writable layer, logs) stays on disk;
//            waking starts the same container: no create, but the process starts afresh.
//   removed: the replica is removed; only a parked (never started) container keeps the
//            spec; waking creates and starts a new one.
// A parked container is made at zero in every mode: beside a stopped replica it is how a
// restarted gateway tells "kept at zero" from "crashed" (replicas.ts markKept).
import type Docker from 'dockerode';
import type { Logger } from '../../../../shared/logger.js';
import type { ReplicaCache, Replica } from './replicas.js';

export const KEEP_MODES = ['paused', 'stopped', 'removed'] as const;
export type KeepMode = (typeof KEEP_MODES)[number];

/** Seconds a stopping replica gets to finish after SIGTERM (nothing is in flight by then). */
const STOP_GRACE_S = 5;

/**
 * Takes a replica out of traffic, waits for its calls in flight (until `deadline`), then
 * pauses or stops it. Resolves false when Docker refused (the caller removes it instead).
 */
export async function keepReplica(
  docker: Docker,
  cache: ReplicaCache,
  replica: Replica,
  mode: 'paused' | 'stopped',
  isIdle: (id: string) => boolean,
  deadline: number,
  log: Logger,
): Promise<boolean> {
  cache.keep(replica.id, mode);
  while (!isIdle(replica.id) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  const container = docker.getContainer(replica.id);
  try {
    if (mode === 'paused') await container.pause();
    else await container.stop({ t: STOP_GRACE_S });
    return true;
  } catch (err) {
    // 304: already stopped, which is what was wanted.
    if ((err as { statusCode?: number }).statusCode === 304) return true;
    cache.unkeep(replica.id);
    // Seen under load: runc "unable to freeze". The caller removes the replica instead.
    const action = mode === 'paused' ? 'pause' : 'stop';
    log.warn({ fn: `${replica.name}.${replica.namespace}`, container: replica.id.slice(0, 12), err }, `Docker would not ${action} the replica kept at zero; it is removed instead (the next wake creates one)`);
    return false;
  }
}

/** Brings a kept replica back: unpause or start, then probe. Resolves true once it answers. */
export async function resumeReplica(docker: Docker, cache: ReplicaCache, replica: Replica, deadline: number): Promise<boolean> {
  const was = replica.kept;
  cache.unkeep(replica.id);
  const container = docker.getContainer(replica.id);
  try {
    if (was === 'paused') await container.unpause();
    else await container.start();
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode !== 304) return false;
  }
  return cache.ready(replica.id, deadline);
}

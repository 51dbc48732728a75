// A pull request's previews removed: when it is closed or merged (a job from the
// receiver), or when it had no push for GITFAAS_PREVIEW_TTL (the sweep). Only functions
// labelled as previews of that pull request of that repository are touched; the sticky
// comment then says they are gone and why.
import type { Redis } from 'ioredis';
import type { SourceRef } from '../../shared/jobs.js';
import type { Logger } from '../../shared/logger.js';
import type { GatewayClient } from '../../shared/gateway-client.js';
import { comment, type PreviewDeps } from './preview-deploy.js';
import { previewLockKey } from './preview-lock.js';
import { isPreviewOf } from './preview-name.js';
import type { PreviewFunction } from './preview-store.js';
import { withRepoLock } from './repo-lock.js';

export interface RemoveDeps {
  gateway: Pick<GatewayClient, 'list' | 'remove'>;
  redis: Redis;
  keyPrefix: string;
  previews: PreviewDeps;
  log: Logger;
  lockWaitMs: number;
}

export type RemoveReason = 'closed' | 'merged' | 'expired';

const WHY: Record<RemoveReason, string> = {
  closed: 'the pull request was closed',
  merged: 'the pull request was merged',
  expired: 'no push for the preview lifetime (GITFAAS_PREVIEW_TTL)',
};

export async function removePreviews(source: SourceRef & { pullRequest: number }, reason: RemoveReason, deps: RemoveDeps): Promise<string[]> {
  const log = deps.log.child({ repo: source.fullName, pullRequest: source.pullRequest, reason });
  return withRepoLock(deps.redis, previewLockKey(deps.keyPrefix, source), deps.lockWaitMs, async () => {
    const record = await deps.previews.store.get(source);
    const live = (await deps.gateway.list(source.namespace)).filter((fn) => isPreviewOf(fn, source, source.pullRequest));
    const removed: string[] = [];
    for (const fn of live) {
      await deps.gateway.remove(fn.name, source.namespace);
      removed.push(fn.name);
    }
    const known = record?.functions ?? [];
    const functions: PreviewFunction[] = [
      ...known.map((f) => ({ name: f.name, preview: f.preview, state: 'removed' as const })),
      ...removed.filter((name) => !known.some((f) => f.preview === name)).map((name) => ({ name, preview: name, state: 'removed' as const })),
    ];
    // The record keeps the source the sweep found it by; the closing event's sha is newer.
    const closed = reason === 'expired' && record ? record.source : source;
    await deps.previews.store.closed(closed, functions);
    if (record || removed.length > 0) {
      await comment(deps, closed, functions, `Previews removed: ${WHY[reason]}.`, log);
    }
    log.info({ removed }, 'previews removed');
    return removed;
  });
}

// One preview deploy or removal at a time per pull request, across deployer processes,
// so a close never races a push's deploy (and the comment is written in order).
import type { SourceRef } from '../../shared/jobs.js';

export function previewLockKey(prefix: string, source: Pick<SourceRef, 'scm' | 'repoId'> & { pullRequest: number }): string {
  return `${prefix}:preview-lock:${source.scm}:${source.repoId}:${source.pullRequest}`;
}

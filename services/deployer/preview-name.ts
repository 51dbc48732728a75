// A preview's function name and labels. `<fn>-pr<n>` when it fits a DNS label (63
// characters); otherwise the function name is cut and a short hash of the whole name
// keeps two long names apart. The labels mark a function as a preview of one pull
// request of one repository, so nothing that handles production (garbage collection,
// quotas, rollback, supersede) takes it for a production function.
import { createHash } from 'node:crypto';
import type { FunctionStatus } from '../../shared/openfaas-types.js';
import type { SourceRef } from '../../shared/jobs.js';
import { LABEL } from './deployment.js';

export const PREVIEW_LABEL = {
  preview: 'com.openfaas.cloud.preview',
  pr: 'com.openfaas.cloud.preview.pr',
  repo: 'com.openfaas.cloud.preview.repo',
  /** The stack.yml name the preview was built from. */
  function: 'com.openfaas.cloud.preview.function',
} as const;

const MAX_LABEL = 63;

export function previewName(fn: string, pullRequest: number): string {
  const suffix = `-pr${pullRequest}`;
  const plain = `${fn}${suffix}`;
  if (plain.length <= MAX_LABEL) return plain;
  const hash = createHash('sha256').update(plain).digest('hex').slice(0, 6);
  const room = MAX_LABEL - suffix.length - hash.length - 1;
  // A cut name must still end with a letter or digit before the hash's dash.
  const head = fn.slice(0, room).replace(/-+$/, '');
  return `${head}-${hash}${suffix}`;
}

export function previewLabels(source: SourceRef & { pullRequest: number }, fn: string): Record<string, string> {
  return {
    [PREVIEW_LABEL.preview]: 'true',
    [PREVIEW_LABEL.pr]: String(source.pullRequest),
    [PREVIEW_LABEL.repo]: source.fullName,
    [PREVIEW_LABEL.function]: fn,
  };
}

export function isPreview(fn: Pick<FunctionStatus, 'labels'>): boolean {
  return fn.labels?.[PREVIEW_LABEL.preview] === 'true';
}

/** A live function that is a preview of exactly this pull request of this repository. */
export function isPreviewOf(fn: Pick<FunctionStatus, 'labels'>, source: Pick<SourceRef, 'scm' | 'repoId'>, pullRequest: number): boolean {
  return (
    isPreview(fn) &&
    fn.labels?.[PREVIEW_LABEL.pr] === String(pullRequest) &&
    fn.labels?.[LABEL.scm] === source.scm &&
    fn.labels?.[LABEL.repoId] === String(source.repoId)
  );
}

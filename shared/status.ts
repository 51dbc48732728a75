// Commit statuses / check runs, whatever the git host. The GitHub (shared/github.ts) and
// GitLab (shared/gitlab.ts) reporters implement this; builder and deployer only see it.
import type { SourceRef } from './jobs.js';

/**
 * 'cancelled' is a build or deploy that stopped because a newer commit superseded it: not a
 * failure. Each host shows it as its nearest state (shared/github.ts, shared/gitlab.ts), and
 * the description says which commit superseded it.
 */
export type StatusState = 'pending' | 'running' | 'success' | 'failure' | 'cancelled';

/** The aggregate context; each function also gets `${AGGREGATE_CONTEXT}/<function>`. */
export const AGGREGATE_CONTEXT = 'gitfaas';

export interface StatusUpdate {
  /** "gitfaas" or "gitfaas/<function>". */
  context: string;
  state: StatusState;
  /** One line: stage, reason, duration. Hosts cut long descriptions; keep it under 140. */
  description: string;
  targetUrl?: string;
  /** Check-run output (GitHub App): stage timings and the tail of the build log. */
  details?: { title: string; summary: string; text?: string };
}

export interface StatusReporter {
  report(source: SourceRef, update: StatusUpdate): Promise<void>;
}

// A real in-memory StatusReporter: keeps every update, in order, for tests to read.
import type { SourceRef } from '../../shared/jobs.js';
import type { StatusReporter, StatusUpdate } from '../../shared/status.js';

export interface Recorded extends StatusUpdate {
  sha: string;
}

export class RecordingReporter implements StatusReporter {
  readonly updates: Recorded[] = [];

  async report(source: SourceRef, update: StatusUpdate): Promise<void> {
    this.updates.push({ ...update, sha: source.sha });
  }

  /** Updates for one commit (and context, if given), in order. */
  for(sha: string, context?: string): Recorded[] {
    return this.updates.filter((u) => u.sha === sha && (context === undefined || u.context === context));
  }

  /** The last update of a context for a commit. */
  last(sha: string, context: string): Recorded | undefined {
    return this.for(sha, context).at(-1);
  }
}

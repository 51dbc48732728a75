// What the builder settles before it clones: the clone URL is on a configured git origin
// and names the event's repository (shared/git-origins.ts; the receiver checked too, but a
// job may reach the queue another way), the git host confirms the repository id's names
// (shared/verify-repository.ts), and only then, and only for that repository, the clone
// credentials. A pull request's head in another repository (a fork) gets none: nothing
// ties its URL to the repository the event was verified for.
import { checkCloneUrl, type GitOrigins } from '../../shared/git-origins.js';
import type { SourceRef } from '../../shared/jobs.js';
import { RepositoryMismatch, type Verified } from '../../shared/verify-repository.js';

type Credentials = { username: string; password: string };

export interface TrustDeps {
  origins: GitOrigins;
  verifyRepository?: (source: SourceRef) => Promise<Verified>;
  cloneCredentials?: (source: SourceRef) => Promise<Credentials | undefined>;
  /** Lines for the build log. */
  note: (line: string) => void;
}

export type Trusted =
  | { ok: true; credentials?: Credentials }
  /** permanent: no retry can fix it (a refusal), rather than a host that did not answer. */
  | { ok: false; reason: string; permanent: boolean };

export async function trustSource(source: SourceRef, deps: TrustDeps): Promise<Trusted> {
  const urlCheck = checkCloneUrl(source, deps.origins);
  if (!urlCheck.ok) return { ok: false, reason: urlCheck.problem, permanent: true };
  try {
    const verified = deps.verifyRepository ? await deps.verifyRepository(source) : { verified: false as const, why: 'no host lookup wired' };
    deps.note(
      verified.verified
        ? `${source.fullName} confirmed by ${source.scm} (repository ${source.repoId})`
        : `${source.fullName} not confirmed with ${source.scm}: ${verified.why}`,
    );
  } catch (err) {
    return { ok: false, reason: (err as Error).message, permanent: err instanceof RepositoryMismatch };
  }
  if (!source.private || !deps.cloneCredentials) return { ok: true };
  if (!urlCheck.namesRepository) {
    deps.note('the head is in another repository: cloned without credentials');
    return { ok: true };
  }
  try {
    return { ok: true, credentials: await deps.cloneCredentials(source) };
  } catch (err) {
    return { ok: false, reason: `could not get clone credentials: ${(err as Error).message}`, permanent: false };
  }
}

// Queue names and the payload of every BullMQ job, shared by producers and workers.
// Workers re-validate on dequeue (BuildJob.parse(job.data)). Payloads carry references
// (installation id, clone URL, sha), never tokens: a worker gets credentials itself.
import { z } from 'zod';

export const BUILDS_QUEUE = 'builds';
export const DEPLOYS_QUEUE = 'deploys';

export const Scm = z.enum(['github', 'gitlab']);

/** The repository and commit an event is about, normalised from GitHub or GitLab at the edge. */
export const SourceRef = z.object({
  scm: Scm,
  /** Owner login as the host spells it (e.g. "Alice"); the namespace derives from it. */
  owner: z.string().min(1),
  /** Repository name without owner. */
  repo: z.string().min(1),
  /** "owner/repo" as the host spells it. */
  fullName: z.string().min(1),
  /** Host's numeric repository / project id. */
  repoId: z.number().int(),
  /** https (or file://, in tests) URL to clone; never carries credentials. */
  cloneUrl: z.string().min(1),
  private: z.boolean(),
  sha: z.string().regex(/^[0-9a-f]{40}$/, 'a full 40-hex commit sha'),
  branch: z.string().min(1),
  defaultBranch: z.string().min(1),
  /** GitHub App installation id, when the event came through an App. */
  installationId: z.number().int().optional(),
  /** Pull/merge request number for pull_request events. */
  pullRequest: z.number().int().optional(),
  /**
   * A pull request whose head lives in another repository (a fork): its code would run
   * with the owner's secrets, so it gets a preview only where GITFAAS_PREVIEW_FORKS allows.
   */
  fork: z.boolean().optional(),
  /** Owner's namespace (shared/names.ts ownerNamespace). */
  namespace: z.string().min(1),
});
export type SourceRef = z.infer<typeof SourceRef>;

export const BuildKind = z.enum(['push', 'pull_request']);

export const BuildJob = z.object({
  kind: BuildKind,
  source: SourceRef,
  /** Webhook delivery id, for logs. */
  deliveryId: z.string(),
  /**
   * Order of this event among events for the same repository and branch (Redis INCR at
   * the receiver): a job whose seq is below the latest is superseded, and a deploy never
   * goes from a higher seq to a lower one.
   */
  seq: z.number().int().nonnegative(),
  receivedAt: z.string(),
  /** The build's record in the build history (shared/build-history.ts), created with the job. */
  buildId: z.string().optional(),
  /** The build log's token (shared/build-logs.ts): the receiver names its URL in the 202. */
  logToken: z.string().optional(),
  /** Who pushed (or opened the pull request), as the host names them. */
  pushedBy: z.string().optional(),
  /** A webhook delivery, or an admin's rebuild (docs/builds.md). */
  trigger: z.enum(['webhook', 'rebuild', 'redeploy']).optional(),
});
export type BuildJob = z.infer<typeof BuildJob>;

export const Resources = z.object({ memory: z.string().optional(), cpu: z.string().optional() });

/** One built function, ready for the gateway's FunctionDeployment. */
export const BuiltFunction = z.object({
  name: z.string(),
  /** Image reference by digest: REGISTRY/NAMESPACE/NAME@sha256:... */
  image: z.string(),
  envVars: z.record(z.string(), z.string()).default({}),
  labels: z.record(z.string(), z.string()).default({}),
  annotations: z.record(z.string(), z.string()).default({}),
  secrets: z.array(z.string()).default([]),
  limits: Resources.optional(),
  requests: Resources.optional(),
  readOnlyRootFilesystem: z.boolean().optional(),
  buildSeconds: z.number().optional(),
});
export type BuiltFunction = z.infer<typeof BuiltFunction>;

export const DeployJob = z.object({
  build: BuildJob,
  functions: z.array(BuiltFunction),
  /** URL of the build log, for statuses. */
  logUrl: z.string().optional(),
  /** Seconds each stage took so far (clone, build, push), for the check run output. */
  stages: z.record(z.string(), z.number()).default({}),
});
export type DeployJob = z.infer<typeof DeployJob>;

/** Deterministic job id: a redelivered or repeated event never builds twice. */
export function buildJobId(source: Pick<SourceRef, 'scm' | 'repoId' | 'sha'>, kind: z.infer<typeof BuildKind>): string {
  return `${source.scm}-${source.repoId}-${source.sha}-${kind}`;
}

export const ROLLBACKS_QUEUE = 'rollbacks';

/**
 * An admin's rollback (docs/gitops.md, "Rollback"): the deployer puts a repository's
 * functions, or one of them, back to an earlier deploy of its history (shared/deploy-history.ts).
 */
export const RollbackJob = z.object({
  scm: Scm,
  repoId: z.number().int(),
  fullName: z.string().min(1),
  /** The commit to go back to (a full sha or a prefix of 7+); default: the deploy before the live one. */
  sha: z.string().regex(/^[0-9a-f]{7,40}$/).optional(),
  /** One function only; default: every function of that deploy. */
  function: z.string().min(1).optional(),
  requestedAt: z.string(),
});
export type RollbackJob = z.infer<typeof RollbackJob>;

export const RollbackResult = z.object({
  ok: z.boolean(),
  /** Why it could not be done (ok false). */
  error: z.string().optional(),
  /** The commit rolled back to, and the functions put back. */
  sha: z.string().optional(),
  functions: z.array(z.string()).default([]),
  /** Each function of the repository and the commit now live. */
  live: z.record(z.string(), z.string()).default({}),
});
export type RollbackResult = z.infer<typeof RollbackResult>;

export const PREVIEWS_QUEUE = 'previews';

/**
 * Work on pull/merge request previews besides deploying them (docs/gitops.md, "Previews"):
 * removing a pull request's previews when it is closed or merged, and the periodic sweep
 * that removes those without a push for GITFAAS_PREVIEW_TTL.
 */
export const PreviewJob = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('remove'),
    /** The pull request's repository and head, as the closing event named them. */
    source: SourceRef.extend({ pullRequest: z.number().int() }),
    reason: z.enum(['closed', 'merged']),
    requestedAt: z.string(),
  }),
  z.object({ kind: z.literal('sweep') }),
]);
export type PreviewJob = z.infer<typeof PreviewJob>;

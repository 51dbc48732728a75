// Instant rollback beside the admin builds API (docs/gitops.md, "Rollback"), behind the
// same admin credentials:
//   GET  /system/deploys?repository=owner/name[&scm=]   what is live per function, the hold, the deploy history
//   POST /system/rollback {"repository","scm"?,"sha"?,"function"?}
// The deploy history is read from Redis (shared/deploy-history.ts); the rollback itself is
// a job on the rollbacks queue that the deployer runs (it owns the gateway client and the
// per-repository deploy lock). The route waits for its outcome and answers which commit is live.
import { Job, type Queue } from 'bullmq';
import type { Hono } from 'hono';
import { DeployHistory } from '../../shared/deploy-history.js';
import { RollbackJob, RollbackResult } from '../../shared/jobs.js';
import { AdminRequestError, findRepository, type AdminActionDeps } from './admin-actions.js';

export interface RollbackRouteDeps extends AdminActionDeps {
  rollbacks: Queue;
  /** The instance's queue prefix: the deploy history lives under it. */
  prefix: string;
  /** How long the route waits for the deployer before answering 202. */
  rollbackWaitMs?: number;
}

const POLL_MS = 200;

function errorStatus(error: string): 404 | 409 | 502 {
  if (error.startsWith('rollback to')) return 502;
  if (error.startsWith('only one commit')) return 409;
  return 404;
}

export function addRollbackRoutes(app: Hono, deps: RollbackRouteDeps): void {
  const history = new DeployHistory(deps.enqueuer.redis, deps.prefix);

  app.get('/system/deploys', async (c) => {
    const repo = await findRepository(deps, c.req.query('repository'), c.req.query('scm'));
    const live: Record<string, string> = {};
    for (const [name, record] of await history.live(repo)) live[name] = record.sha;
    const deploys = (await history.list(repo)).map((r) => ({
      sha: r.sha,
      buildId: r.buildId,
      at: r.at,
      ...(r.rollbackFrom ? { rollbackFrom: r.rollbackFrom } : {}),
      // Name and image only: env vars and the rest of the spec stay out of answers.
      functions: r.functions.map((f) => ({ name: f.name, image: f.image })),
    }));
    return c.json({ repository: repo.fullName, scm: repo.scm, live, hold: (await history.hold(repo)) ?? null, deploys });
  });

  app.post('/system/rollback', async (c) => {
    const body = (await c.req.json().catch(() => undefined)) as Record<string, unknown> | undefined;
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new AdminRequestError('expected a JSON object body', 400);
    const repo = await findRepository(deps, body.repository, body.scm);
    if (body.sha !== undefined && (typeof body.sha !== 'string' || !/^[0-9a-f]{7,40}$/.test(body.sha))) {
      throw new AdminRequestError('"sha" must be a commit sha (7 to 40 hex digits)', 400);
    }
    if (body.function !== undefined && (typeof body.function !== 'string' || body.function === '')) {
      throw new AdminRequestError('"function" must be a function name', 400);
    }
    const payload = RollbackJob.parse({
      scm: repo.scm,
      repoId: repo.repoId,
      fullName: repo.fullName,
      ...(body.sha ? { sha: body.sha } : {}),
      ...(body.function ? { function: body.function } : {}),
      requestedAt: new Date().toISOString(),
    });
    const job = await deps.rollbacks.add('rollback', payload, { removeOnComplete: { age: 3600 }, removeOnFail: { age: 24 * 3600 } });
    const deadline = Date.now() + (deps.rollbackWaitMs ?? 300_000);
    for (;;) {
      const state = await deps.rollbacks.getJobState(job.id!);
      // Read after the state: a job read before it completed carries no return value.
      const current = state === 'completed' || state === 'failed' ? await Job.fromId(deps.rollbacks, job.id!) : undefined;
      if (state === 'completed') {
        const result = RollbackResult.parse(current!.returnvalue);
        if (!result.ok) return c.text(`${result.error}\n`, errorStatus(result.error ?? ''));
        return c.json({ repository: repo.fullName, rolledBackTo: result.sha, functions: result.functions, live: result.live });
      }
      if (state === 'failed') return c.text(`rollback failed in the deployer: ${current!.failedReason}\n`, 502);
      if (Date.now() > deadline) {
        return c.json({ message: `rollback still running in the deployer (job ${job.id}); GET /system/deploys?repository=${repo.fullName} shows what is live`, jobId: job.id }, 202);
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  });
}

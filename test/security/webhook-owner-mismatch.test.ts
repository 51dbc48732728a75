// Attack (issue 8 §3): a signed payload whose names disagree, `owner.login: Alice` with
// `full_name: mallory/ns`, deployed mallory's code into alice's namespace over alice's
// function. The receiver refuses it with a 400 naming both spellings, for a push and
// for a pull request, and queues nothing; the same repository with agreeing names is
// accepted.
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { loadWebhooksConfig } from '../../services/webhooks/config.js';
import { startWebhooks, type RunningWebhooks } from '../../services/webhooks/service.js';
import { BUILDS_QUEUE } from '../../shared/jobs.js';
import { silentLogger } from '../../shared/logger.js';
import { deliverGitHub, pullRequestPayload, pushPayload } from '../helpers/github-payloads.js';
import { deleteKeys } from '../helpers/redis-keys.js';

const run = randomBytes(4).toString('hex');
const prefix = `t-sec-owner-${run}`;
const secret = randomBytes(20).toString('hex');
const [alice, mallory] = [`Alice${run}`, `mallory${run}`];
const repoId = randomInt(1, 2 ** 31);
const sha = () => randomBytes(20).toString('hex');

describe("a payload whose owner and full name disagree", () => {
  let receiver: RunningWebhooks;
  let redis: Redis;
  let builds: Queue;

  before(async () => {
    receiver = await startWebhooks(
      loadWebhooksConfig({ GITFAAS_WEBHOOKS_PORT: '0', GITFAAS_QUEUE_PREFIX: prefix, GITHUB_WEBHOOK_SECRET: secret }),
      silentLogger(),
    );
    redis = new Redis('redis://127.0.0.1:6379');
    builds = new Queue(BUILDS_QUEUE, { connection: redis, prefix });
  });

  after(async () => {
    await receiver?.stop();
    await builds?.obliterate({ force: true }).catch(() => {});
    await builds?.close();
    await deleteKeys(redis, [`${prefix}:*`]);
    redis?.disconnect();
  });

  // Alice's repository as named by owner.login and name, with mallory's full_name.
  const repo = { owner: alice, name: 'fns', id: repoId, cloneUrl: `https://github.com/${mallory}/ns.git`, defaultBranch: 'main' };
  const disagreeing = (payload: any) => {
    for (const r of [payload.repository, payload.pull_request?.head?.repo, payload.pull_request?.base?.repo].filter(Boolean)) r.full_name = `${mallory}/ns`;
    return payload;
  };
  const jobs = async () => (await builds.getJobs(['waiting', 'active', 'delayed', 'completed', 'failed'])).length;

  test('a push is refused with 400 naming both spellings; nothing is queued', async () => {
    const res = await deliverGitHub(receiver.url, 'push', disagreeing(pushPayload(repo, sha())), secret);
    assert.equal(res.status, 400, res.text);
    assert.match(res.text, new RegExp(`repository\\.full_name "${mallory}/ns" disagrees with repository\\.owner\\.login and name \\("${alice}/fns"\\)`));
    assert.equal(await jobs(), 0);
  });

  test('a pull request is refused the same way', async () => {
    const res = await deliverGitHub(receiver.url, 'pull_request', disagreeing(pullRequestPayload(repo, sha(), 'feature', 'opened')), secret);
    assert.equal(res.status, 400, res.text);
    assert.match(res.text, /disagrees with repository\.owner\.login/);
    assert.equal(await jobs(), 0);
  });

  test('the same repository with agreeing names is accepted', async () => {
    const agreeing = { ...repo, cloneUrl: `https://github.com/${alice}/fns.git` };
    const res = await deliverGitHub(receiver.url, 'push', pushPayload(agreeing, sha()), secret);
    assert.equal(res.status, 202, res.text);
    assert.equal(await jobs(), 1);
  });
});

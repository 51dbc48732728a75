// The build history and the admin builds API, end to end: a signed push is answered with
// its build log's URL, its record moves queued -> building -> deploying -> success with
// stage timings and per-function results, the admin API lists it per repository, and an
// admin can rebuild (the default branch head, or a given sha) and redeploy what is live.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { BuildRecord, KnownRepository } from '../../shared/build-history.js';
import { nodeHandler, stackYml, startGitOpsStack, type GitOpsRepo, type GitOpsStack } from '../helpers/gitops-stack.js';
import { waitFor } from '../helpers/wait.js';

const BUILD_MS = 180_000;

describe('build history and the admin builds API', () => {
  let stack: GitOpsStack;
  let repo: GitOpsRepo;
  let fullName: string;

  before(async () => {
    stack = await startGitOpsStack();
    repo = await stack.newRepo('history');
    fullName = `${stack.owner}/history`;
  });
  after(async () => {
    await stack?.stop();
  });

  const admin: GitOpsStack['admin'] = (...args) => stack.admin(...args);
  const buildsOf = async (): Promise<BuildRecord[]> => (await admin('GET', `/system/builds?repository=${encodeURIComponent(fullName)}`)).json().builds;
  const finished = (id: string) =>
    waitFor(
      `build ${id} to finish`,
      async () => {
        const res = await admin('GET', `/system/builds/${id}`);
        const build = res.status === 200 ? (res.json() as BuildRecord) : undefined;
        return build && ['success', 'failed', 'superseded'].includes(build.state) ? build : undefined;
      },
      BUILD_MS,
      200,
    );

  test('a push: the 202 names the build log, the record ends in success with stages and functions, the log ends with the deploy', async () => {
    const sha = await repo.commit({ 'stack.yml': stackYml({ hist: { lang: 'node20', handler: './hist' } }), 'hist/handler.js': nodeHandler('history v1') });
    const res = await repo.push(sha);
    assert.equal(res.status, 202, res.text);
    const answer = JSON.parse(res.text);
    assert.ok(answer.logUrl?.startsWith(`${stack.webhooks.url}/logs/`), `the 202 names the log: ${res.text}`);
    assert.match(answer.buildId, /^b[0-9a-z]+$/);

    const build = await finished(answer.buildId);
    assert.equal(build.state, 'success', JSON.stringify(build));
    assert.equal(build.sha, sha);
    assert.equal(build.logUrl, answer.logUrl);
    assert.equal(build.trigger, 'webhook');
    assert.deepEqual(build.repository, { scm: 'github', owner: stack.owner, name: 'history', fullName, repoId: repo.payloadRepo.id, namespace: stack.namespace });
    for (const stage of ['clone', 'build', 'push', 'deploy']) assert.equal(typeof build.stages[stage], 'number', `stage ${stage}: ${JSON.stringify(build.stages)}`);
    assert.equal(build.functions.hist?.state, 'live', JSON.stringify(build.functions));
    assert.ok(build.finishedAt && build.startedAt && build.createdAt <= build.finishedAt);

    const log = await (await fetch(answer.logUrl)).text();
    assert.match(log, /\[hist\] live at /);
    assert.match(log.trimEnd().split('\n').at(-1)!, /^deploy deployed$/, log);
    // Every status of the commit links somewhere; the aggregate ones link the log.
    for (const s of stack.github.statusesFor(sha)) assert.ok(s.target_url, `${s.context} ${s.state} has a target URL`);
    for (const s of stack.github.statusesFor(sha, 'gitfaas')) assert.equal(s.target_url, answer.logUrl, `${s.state}: ${s.description}`);

    const listed = await buildsOf();
    assert.equal(listed[0].id, answer.buildId);
    const repos: KnownRepository[] = (await admin('GET', '/system/repositories')).json().repositories;
    const known = repos.find((r) => r.fullName === fullName);
    assert.deepEqual(
      known && { scm: known.scm, cloneUrl: known.cloneUrl, defaultBranch: known.defaultBranch, repoId: known.repoId },
      { scm: 'github', cloneUrl: repo.payloadRepo.cloneUrl, defaultBranch: 'main', repoId: repo.payloadRepo.id },
    );
  });

  test('the admin API refuses without the admin password and names what is wrong', async () => {
    assert.equal((await admin('GET', '/system/builds', undefined, 'Basic ' + Buffer.from('admin:wrong').toString('base64'))).status, 401);
    assert.equal((await admin('POST', '/system/builds/rebuild', { repository: 'nobody/nothing' })).status, 404);
    const bad = await admin('POST', '/system/builds/rebuild', { repository: fullName, sha: 'abc' });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /40-hex/);
    assert.equal((await admin('GET', '/system/builds/bnotabuild000000')).status, 404);
  });

  test('a rebuild of the default branch head builds the newest commit; a rebuild of a given sha builds that one', async () => {
    const first = (await buildsOf())[0];
    const sha = await repo.commit({ 'hist/handler.js': nodeHandler('history v2') });
    // No webhook for this commit: the rebuild finds the head itself.
    const res = await admin('POST', '/system/builds/rebuild', { repository: fullName });
    assert.equal(res.status, 202, res.text);
    const queued = res.json();
    assert.equal(queued.sha, sha);
    assert.ok(queued.logUrl.startsWith(`${stack.webhooks.url}/logs/`));
    const build = await finished(queued.buildId);
    assert.equal(build.state, 'success', JSON.stringify(build));
    assert.equal(build.trigger, 'rebuild');
    assert.equal(build.pushedBy, 'admin');
    assert.equal((await stack.call('hist')).text, 'history v2');

    const again = await admin('POST', '/system/builds/rebuild', { repository: fullName, sha: first.sha });
    assert.equal(again.status, 202, again.text);
    assert.equal((await finished(again.json().buildId)).state, 'success');
    assert.equal((await stack.call('hist')).text, 'history v1');
  });

  test('a redeploy puts back what the newest successful build deployed', async () => {
    const newest = (await buildsOf()).find((b) => b.state === 'success')!;
    // Remove the function behind gitfaas's back; the redeploy brings it back.
    const del = await fetch(`${stack.gateway.url}/system/functions`, {
      method: 'DELETE',
      headers: { authorization: stack.gateway.authHeader, 'content-type': 'application/json' },
      body: JSON.stringify({ functionName: 'hist', namespace: stack.namespace }),
    });
    assert.equal(del.status, 202, await del.text());
    assert.equal((await stack.call('hist')).status, 404);
    const res = await admin('POST', '/system/builds/redeploy', { repository: fullName });
    assert.equal(res.status, 202, res.text);
    const queued = res.json();
    assert.equal(queued.from, newest.id);
    assert.equal(queued.sha, newest.sha);
    const build = await finished(queued.buildId);
    assert.equal(build.state, 'success', JSON.stringify(build));
    assert.equal(build.trigger, 'redeploy');
    assert.equal((await stack.call('hist')).text, 'history v1');
    assert.match(await (await fetch(queued.logUrl)).text(), /redeploy of .* \(build b[0-9a-z]+\)[\s\S]*deploy deployed/);
  });
});

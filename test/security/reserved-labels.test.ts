// §6 of issue 8: reserved label prefixes were matched case-sensitively, so
// COM.GITFAAS.instance passed. Both boundaries refuse any case: the gateway's REST API (the
// provider's check) and a stack.yml's labels and annotations (shared/tenancy.ts).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DEFAULT_QUOTAS, tenancyProblems } from '../../shared/tenancy.js';
import { fixtureImage } from '../helpers/images.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { call, deployment } from '../gateway/client.js';

let gw: TestGateway;
let image: string;
before(async () => {
  image = await fixtureImage('echo');
  gw = await startTestGateway();
});
after(() => gw?.stop());

const DISGUISED = ['COM.GITFAAS.instance', 'Com.Gitfaas.managed', 'com.GITFAAS.function', 'COM.OPENFAAS.CLOUD.git-owner'];

test('stack.yml labels and annotations under a reserved prefix are refused in any case', () => {
  for (const key of DISGUISED) {
    for (const field of ['labels', 'annotations'] as const) {
      const problems = tenancyProblems({
        namespace: 'gh-alice',
        functions: [{ name: 'fn', [field]: { [key]: 'other' } }],
        otherFunctionsOfOwner: 0,
        quotas: DEFAULT_QUOTAS,
      });
      assert.deepEqual(problems, [`function fn: ${field}.${key} is reserved for gitfaas and cannot be set`], key);
    }
  }
  // The one key users may set stays theirs.
  assert.deepEqual(tenancyProblems({ namespace: 'gh-alice', functions: [{ name: 'fn', labels: { 'com.gitfaas.domain': 'a.example.com' } }], otherFunctionsOfOwner: 0, quotas: DEFAULT_QUOTAS }), []);
});

test('the gateway refuses a disguised gitfaas label and deploys nothing', async () => {
  for (const key of DISGUISED.filter((k) => k.toLowerCase().startsWith('com.gitfaas.'))) {
    const res = await call(gw, 'POST', '/system/functions', deployment(gw, 'sneaky', image, { labels: { [key]: 'someone-else' } }));
    assert.equal(res.status, 400, `${key}: ${res.text}`);
    assert.match(res.text, new RegExp(`label "${key}": the prefix com\\.gitfaas\\. is reserved`));
  }
  const list = await call(gw, 'GET', `/system/functions?namespace=${gw.namespace}`);
  assert.deepEqual(list.json(), []);
});

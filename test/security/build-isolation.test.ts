// Issue 8 §2: a tenant's build sees only the allowed base images and its own namespace's
// images, and no host-loopback service. Each escape the attack probe used is tried for
// real through the builder (real git, BuildKit in the Docker engine, the local registry):
// alice builds an image, mallory's Dockerfiles try to read it, the registry's catalog and
// NATS's monitor; every one fails naming the line and the reason, and nothing of what they
// aimed at reaches mallory's build log. The templates and an own-namespace FROM still build,
// and RUN steps run without network.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AGGREGATE_CONTEXT } from '../../shared/status.js';
import { BuilderHarness, LOCAL_DEBIAN_IMAGE } from '../builder/harness.js';

const h = new BuilderHarness();
const fn = (name: string) => `${AGGREGATE_CONTEXT}/${name}`;
const aliceNamespace = `gh-a${h.runId}`;
let aliceImage = '';

before(async () => {
  await h.start();
  await h.startBuilder();
  // alice's function: an image in her namespace holding a file only she should read.
  const repo = await h.repo('alice');
  const sha = await repo.commit({
    'stack.yml': 'functions:\n  victim:\n    lang: dockerfile\n    handler: victim\n',
    'victim/Dockerfile': `FROM ${LOCAL_DEBIAN_IMAGE}\nRUN echo "alice-secret-${h.runId}" > /secret.txt\n`,
  });
  const { state } = await h.finished(await h.enqueue(h.source(repo, sha, { owner: `a${h.runId}`, namespace: aliceNamespace })));
  assert.equal(state, 'completed', `alice's build: ${JSON.stringify(h.reporter.last(sha, fn('victim')))}`);
  aliceImage = `127.0.0.1:5000/${aliceNamespace}/victim:${sha}`;
});

after(async () => {
  const images = await h.docker.listImages({ filters: { reference: [`127.0.0.1:5000/${aliceNamespace}/*`] } });
  for (const i of images) await h.docker.getImage(i.Id).remove({ force: true }).catch(() => {});
  await h.stop();
});

describe("mallory's escapes", () => {
  let sha = '';
  let log = '';
  const escapes: Record<string, string> = {};

  before(async () => {
    const dockerfiles: Record<string, string> = {
      'from-other': `FROM ${aliceImage}\nRUN cat /secret.txt\n`,
      'copy-other': `FROM ${LOCAL_DEBIAN_IMAGE}\nCOPY --from=${aliceImage} /secret.txt /stolen.txt\nRUN cat /stolen.txt\n`,
      catalog: `FROM ${LOCAL_DEBIAN_IMAGE}\nADD http://127.0.0.1:5000/v2/_catalog /catalog.json\nRUN cat /catalog.json\n`,
      connz: `FROM ${LOCAL_DEBIAN_IMAGE}\nADD \\\n  http://127.0.0.1:8222/connz /connz.json\nRUN cat /connz.json\n`,
      'arg-from': `ARG BASE=${LOCAL_DEBIAN_IMAGE}\nFROM \${BASE}\nRUN cat /secret.txt\n`,
      syntax: `# syntax=${aliceImage}\nFROM ${LOCAL_DEBIAN_IMAGE}\nRUN true\n`,
    };
    const files: Record<string, string> = {};
    const stack = ['functions:'];
    for (const [name, dockerfile] of Object.entries(dockerfiles)) {
      stack.push(`  ${name}:`, '    lang: dockerfile', `    handler: ${name}`);
      // The build argument names alice's image: a FROM expanded from it is hers.
      if (name === 'arg-from') stack.push('    build_args:', `      BASE: ${aliceImage}`);
      files[`${name}/Dockerfile`] = dockerfile;
    }
    const repo = await h.repo('mallory');
    sha = await repo.commit({ 'stack.yml': `${stack.join('\n')}\n`, ...files });
    const { state } = await h.finished(await h.enqueue(h.source(repo, sha)));
    assert.equal(state, 'failed');
    for (const name of Object.keys(dockerfiles)) escapes[name] = h.reporter.last(sha, fn(name))?.description ?? '(no status)';
    log = await h.log(h.reporter.last(sha, AGGREGATE_CONTEXT)!.targetUrl!);
  });

  const refused = (name: string, re: RegExp) => {
    assert.match(escapes[name], re);
    assert.match(log, new RegExp(`\\[${name}\\] refused: Dockerfile line`), 'the log holds the whole reason');
  };

  test("FROM another namespace's image is refused naming the line", () => {
    refused('from-other', new RegExp(`^Dockerfile line 1: FROM 127\\.0\\.0\\.1:5000/${aliceNamespace}/victim:[0-9a-f]{40}: image "`));
  });

  test("COPY --from another namespace's image is refused", () => {
    refused('copy-other', /^Dockerfile line 2: COPY --from: image "127\.0\.0\.1:5000\//);
  });

  test('ADD http://127.0.0.1:5000/v2/_catalog is refused: the registry is not read', () => {
    refused('catalog', /^Dockerfile line 2: ADD http:\/\/127\.0\.0\.1:5000\/v2\/_catalog: remote sources are not allowed/);
    assert.doesNotMatch(log, /"repositories"/);
  });

  test('ADD http://127.0.0.1:8222/connz (across a line continuation) is refused: NATS monitoring is not read', () => {
    refused('connz', /^Dockerfile line 2: ADD http:\/\/127\.0\.0\.1:8222\/connz: remote sources/);
    assert.doesNotMatch(log, /"num_connections"|"server_id"/);
  });

  test('a FROM built from an ARG and a build argument is expanded and refused', () => {
    refused('arg-from', new RegExp(`^Dockerfile line 2: FROM \\$\\{BASE\\} \\(= 127\\.0\\.0\\.1:5000/${aliceNamespace}/victim`));
  });

  test('a # syntax= directive (a custom frontend) is refused', () => {
    refused('syntax', /^Dockerfile line 1: the "# syntax=127\.0\.0\.1:5000\/.*" directive is not allowed/);
  });

  test("alice's secret reaches no status and no log of mallory's", () => {
    assert.doesNotMatch(log, new RegExp(`alice-secret-${h.runId}`));
    assert.equal(h.reporter.for(sha).filter((u) => u.description === 'building').length > 0, true, 'the functions were planned');
    assert.ok(h.reporter.for(sha).every((u) => !u.description.includes(`alice-secret-${h.runId}`)));
  });
});

describe('what still builds', () => {
  test('an own-namespace FROM, the node20 template, and RUN steps that see only loopback', async () => {
    const repo = await h.repo('own');
    const first = await repo.commit({
      'stack.yml': 'functions:\n  base:\n    lang: dockerfile\n    handler: base\n',
      'base/Dockerfile': `FROM ${LOCAL_DEBIAN_IMAGE}\nRUN echo "own ${h.runId}" > /own.txt\n`,
    });
    assert.equal((await h.finished(await h.enqueue(h.source(repo, first)))).state, 'completed');
    const sha = await repo.commit({
      'stack.yml': 'functions:\n  derived:\n    lang: dockerfile\n    handler: derived\n  hello:\n    lang: node20\n    handler: hello\n',
      // The only interface is lo (network none), and the registry is not reachable from a step.
      'derived/Dockerfile': [
        `FROM 127.0.0.1:5000/${h.namespace}/base:${first} AS own`,
        'RUN echo "interfaces: $(ls /sys/class/net | tr "\\n" " ")" && test "$(ls /sys/class/net)" = lo',
        `RUN bash -c 'if (echo > /dev/tcp/127.0.0.1/5000) 2>/dev/null; then echo "REACHED the registry"; exit 1; else echo "registry unreachable from RUN"; fi'`,
        `FROM ${LOCAL_DEBIAN_IMAGE}`,
        'COPY --from=own /own.txt /own.txt',
        '',
      ].join('\n'),
      'hello/handler.js': "module.exports = async (event, context) => context.status(200).succeed('hi');\n",
    });
    const source = h.source(repo, sha);
    const { state } = await h.finished(await h.enqueue(source));
    const aggregate = h.reporter.last(sha, AGGREGATE_CONTEXT)!;
    assert.equal(state, 'completed', aggregate.description);
    const log = await h.log(aggregate.targetUrl!);
    assert.match(log, /interfaces: lo /);
    assert.match(log, /registry unreachable from RUN/);
    assert.match(log, /\[derived\] building .* \(network: none\)/);
    assert.deepEqual((await h.deployJob(source))?.functions.map((f) => f.name).sort(), ['derived', 'hello']);
  });

  test('a RUN step that reaches for a loopback service fails the build: it has no network', async () => {
    const repo = await h.repo('curl');
    const sha = await repo.commit({
      'stack.yml': 'functions:\n  curl:\n    lang: dockerfile\n    handler: curl\n',
      'curl/Dockerfile': `FROM ${LOCAL_DEBIAN_IMAGE}\nRUN echo "run ${h.runId}" && bash -c 'exec 3<>/dev/tcp/127.0.0.1/8222 && printf "GET /connz HTTP/1.0\\r\\n\\r\\n" >&3 && cat <&3'\n`,
    });
    const { state } = await h.finished(await h.enqueue(h.source(repo, sha)));
    assert.equal(state, 'failed');
    assert.match(h.reporter.last(sha, fn('curl'))!.description, /^build failed: bash: .*\/dev\/tcp\/127\.0\.0\.1\/8222: (Connection refused|Network is unreachable) \(RUN echo /);
  });
});

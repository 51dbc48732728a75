// The Dockerfile policy on its own: what BuildKit's frontend would read from a Dockerfile
// (continuations, escape directive, heredocs, ARG expansion, stages, flags) and which of
// it a tenant may use. test/security/build-isolation.test.ts runs the escapes for real.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDockerfile } from './dockerfile-parse.js';
import { dockerfileProblems, expand } from './dockerfile-policy.js';
import { imagePolicy, parseImageRef } from './image-source.js';

const policy = imagePolicy({
  baseImages: ['127.0.0.1:5000/gitfaas/node:20', '127.0.0.1:5000/gitfaas/debian:bookworm'],
  allowed: ['alpine', '127.0.0.1:5000/shared/*'],
  registry: '127.0.0.1:5000',
  namespace: 'gh-mallory',
});
const check = (text: string, args: Record<string, string> = {}) => dockerfileProblems(text, args, policy);

test('image references are normalised as Docker does, and invalid ones are refused', () => {
  assert.deepEqual(parseImageRef('node:20'), { domain: 'docker.io', path: 'library/node', tag: '20', digest: undefined });
  assert.deepEqual(parseImageRef('127.0.0.1:5000/gh-alice/hello:abc'), { domain: '127.0.0.1:5000', path: 'gh-alice/hello', tag: 'abc', digest: undefined });
  assert.equal(parseImageRef('localhost:5000/x')?.domain, 'localhost:5000');
  for (const bad of ['127.0.0.1:5000//x', 'a/B', 'x/../y', 'x:', '', 'x y']) assert.equal(parseImageRef(bad), undefined, bad);
});

test('allowed: base images exactly, allowlist entries, the own namespace; nothing else', () => {
  assert.deepEqual(check('FROM 127.0.0.1:5000/gitfaas/node:20\nFROM alpine:3.19\nFROM docker.io/library/alpine\nFROM 127.0.0.1:5000/gh-mallory/app:1\nFROM 127.0.0.1:5000/shared/x/y\nFROM scratch\n'), []);
  const refused = [
    '127.0.0.1:5000/gh-alice/hello:abc',
    '127.0.0.1:5000/gitfaas/node:21',
    '127.0.0.1:5000/gh-mallory-x/app',
    'localhost:5000/gh-mallory/app',
    '127.0.0.2:5000/gh-mallory/app',
    'node:20',
    '127.0.0.1:5000/shared',
  ];
  for (const image of refused) {
    const problems = check(`FROM ${image}\n`);
    assert.equal(problems.length, 1, image);
    assert.match(problems[0], /^Dockerfile line 1: FROM .*is not one this build may use \(allowed: /, image);
  }
});

test('FROM is expanded with global ARGs and build args as BuildKit does', () => {
  assert.match(check('ARG IMG=127.0.0.1:5000/gh-alice/hello\nFROM $IMG\n')[0], /line 2: FROM \$IMG \(= 127\.0\.0\.1:5000\/gh-alice\/hello\): image/);
  assert.match(check('ARG IMG=alpine\nFROM ${IMG}\n', { IMG: '127.0.0.1:5000/gh-alice/hello' })[0], /= 127\.0\.0\.1:5000\/gh-alice\/hello/);
  assert.deepEqual(check('ARG IMG\nFROM ${IMG:-alpine}\n'), []);
  assert.match(check('ARG NS=gh-alice\nARG IMG=127.0.0.1:5000/${NS}/hello\nFROM $IMG\n')[0], /gh-alice/);
  // Build args for undeclared ARGs do not reach FROM; an undeclared name is empty.
  assert.match(check('FROM ${IMG:-127.0.0.1:5000/gh-alice/x}\n', { IMG: 'alpine' })[0], /gh-alice/);
  // Forms this check does not follow are refused, not guessed; platform ARGs have values it does not know.
  assert.match(check('ARG X=alpine\nFROM ${X%%pine}\n')[0], /form of variable expansion is not supported/);
  assert.match(check('FROM ${TARGETOS:+127.0.0.1:5000/gh-alice/a}${TARGETOS:-alpine}\n')[0], /not supported/);
  assert.match(check('ARG X="al"pine\nFROM $X\n')[0], /line 2/);
  assert.equal(expand('${A:+b}${A-c}', new Map([['A', '']])), '');
  assert.equal(expand('${A-c}${A:-d}/$B', new Map([['B', 'e']])), 'cd/e');
});

test('stage names and indexes are not images; COPY --from and RUN --mount from= are checked', () => {
  assert.deepEqual(check('FROM alpine AS Build\nRUN echo\nFROM scratch\nCOPY --from=build /a /a\nCOPY --from=0 /a /b\nRUN --mount=type=bind,from=build,target=/x true\n'), []);
  assert.match(check('FROM alpine\nCOPY --from=127.0.0.1:5000/gh-alice/hello:abc /home/app /stolen\n')[0], /^Dockerfile line 2: COPY --from: image "127\.0\.0\.1:5000\/gh-alice\/hello:abc"/);
  assert.match(check('FROM alpine\nRUN --mount=type=bind,"from=127.0.0.1:5000/gh-alice/hello",target=/x cat /x\n')[0], /line 2: RUN --mount from: image/);
  assert.match(check('FROM alpine\nARG S=0\nCOPY --from=$S /a /a\n')[0], /variables are not allowed here/);
  assert.match(check('FROM alpine\nRUN --network=host curl x\n')[0], /--network=host: builds run without network/);
  assert.match(check('FROM alpine\nRUN --security=insecure true\n')[0], /--security=insecure/);
});

test('ADD takes local sources only: no URL, no git remote', () => {
  for (const src of ['http://127.0.0.1:5000/v2/_catalog', 'HTTPS://example.com/x', 'git@github.com:alice/repo.git', 'git://host/x', 'ssh://git@host/x', 'github.com/alice/repo']) {
    assert.match(check(`FROM alpine\nADD ${src} /x\n`)[0] ?? '', /^Dockerfile line 2: ADD .*remote sources are not allowed/, src);
  }
  assert.match(check('FROM alpine\nADD --checksum=sha256:00 ["http://127.0.0.1:8222/connz", "/x"]\n')[0], /remote sources/);
  assert.deepEqual(check('FROM alpine\nADD local.tar /x\nCOPY http://not-a-url /y\n'), []);
});

test('continuations, the escape directive and comments inside a continuation are followed', () => {
  assert.match(check('FROM alpine\nADD \\\n  # a comment\n\n  http://127.0.0.1:5000/v2/_catalog /x\n')[0], /line 2: ADD http:/);
  assert.match(check('# escape=`\nFROM alpine\nADD `\n http://127.0.0.1:5000/v2/_catalog /x\n')[0], /line 3: ADD/);
  assert.match(check('FROM \\\n127.0.0.1:5000/gh-alice/hello\n')[0], /line 1: FROM 127/);
  assert.equal(parseDockerfile('FROM a\nrun echo \\\n b\n').instructions[1].keyword, 'RUN');
});

test('# syntax= and BUILDKIT_SYNTAX are refused: no custom frontend', () => {
  assert.match(check('# syntax=docker/dockerfile:1\nFROM alpine\n')[0], /^Dockerfile line 1: the "# syntax=docker\/dockerfile:1" directive is not allowed/);
  assert.match(check('#SYNTAX = 127.0.0.1:5000/gh-alice/frontend\nFROM alpine\n')[0], /directive is not allowed/);
  assert.deepEqual(check('FROM alpine\n# syntax=x (not a directive here)\n'), []);
  assert.match(check('FROM alpine\n', { BUILDKIT_SYNTAX: 'x' })[0], /build_args\.BUILDKIT_SYNTAX/);
});

test('heredoc bodies are not instructions, but a frontend without heredocs would read them: both readings are checked', () => {
  assert.deepEqual(check('FROM alpine\nRUN <<EOF\necho FROM is only text\nEOF\nCOPY <<-"X" /f\n\thello\n\tX\n'), []);
  assert.match(check('FROM alpine\nRUN <<EOF\nFROM 127.0.0.1:5000/gh-alice/hello\nEOF\n')[0], /line 3: FROM 127\.0\.0\.1:5000\/gh-alice\/hello/);
  assert.match(check('FROM alpine\nRUN <<EOF\n')[0], /heredoc <<EOF is never closed/);
});

test('ONBUILD triggers are checked as instructions of their own', () => {
  assert.match(check('FROM alpine\nONBUILD ADD http://127.0.0.1:5000/v2/_catalog /x\n')[0], /line 2: ADD .*remote sources/);
  assert.match(check('FROM alpine AS a\nONBUILD COPY --from=a /x /y\n')[0], /line 2: COPY --from: image "a"/);
});

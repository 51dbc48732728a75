import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crashExcerpt, demuxDockerLog } from './crash-output.js';

const frame = (stream: number, text: string) => {
  const body = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
};

// What node prints for a handler with a syntax error, as Docker stores it (stderr frames).
const NODE_CRASH = [
  '/home/app/function/handler.js:2',
  'module.exports = async (event, context) => context.status(200).succeed("x";',
  '                                                                         ^^^',
  '',
  'SyntaxError: missing ) after argument list',
  '    at wrapSafe (node:internal/modules/cjs/loader:1378:20)',
  '    at Module._compile (node:internal/modules/cjs/loader:1428:41)',
  '    at Module._extensions..js (node:internal/modules/cjs/loader:1548:10)',
  '    at Module.load (node:internal/modules/cjs/loader:1288:32)',
  '    at Module._load (node:internal/modules/cjs/loader:1104:12)',
  '    at Module.require (node:internal/modules/cjs/loader:1311:19)',
  '    at require (node:internal/modules/helpers:179:18)',
  '    at Object.<anonymous> (/home/app/index.js:4:17)',
  '',
  'Node.js v20.18.0',
].join('\n');

test('the frame headers of a multiplexed log are not read as text', () => {
  const text = demuxDockerLog(Buffer.concat([frame(1, 'listening\n'), frame(2, 'boom\n')]));
  assert.equal(text, 'listening\nboom\n');
  assert.equal(demuxDockerLog(Buffer.from('plain tty output\n')), 'plain tty output\n');
});

test('the excerpt holds the first error line with its location, not only the tail', () => {
  const excerpt = crashExcerpt(demuxDockerLog(frame(2, NODE_CRASH)));
  assert.equal(excerpt.headline, 'SyntaxError: missing ) after argument list (/home/app/function/handler.js:2)');
  assert.equal(excerpt.lines[0], '/home/app/function/handler.js:2');
  assert.ok(excerpt.lines.includes('SyntaxError: missing ) after argument list'));
  assert.equal(excerpt.lines.at(-1), 'Node.js v20.18.0');
  assert.ok(excerpt.lines.length <= 30);
});

test('output without an error line: the last lines, the last one as headline', () => {
  assert.deepEqual(crashExcerpt('starting\nnot listening\n'), { headline: 'not listening', lines: ['starting', 'not listening'] });
  assert.deepEqual(crashExcerpt(''), { lines: [] });
});

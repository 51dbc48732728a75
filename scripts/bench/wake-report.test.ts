// The figures bench:scale prints: nearest-rank quantiles, the ratio to `removed` from the
// same run, the goal column, and the refusal of an unknown mode or function.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startedAfter } from './wake-events.js';
import { parseWakeFunctions } from './wake-functions.js';
import { parseWakeModes } from './wake-measure.js';
import { formatWakeTable, quantile, summarize } from './wake-report.js';

test('quantiles are nearest-rank: p50 of 1..20 is 10, p99 is the largest', () => {
  const sorted = Array.from({ length: 20 }, (_, i) => i + 1);
  assert.equal(quantile(sorted, 0.5), 10);
  assert.equal(quantile(sorted, 0.99), 20);
  assert.equal(quantile([7], 0.5), 7);
});

test('each mode is read against the same function\'s removed p50; the goal is p50 <= 300 ms', () => {
  const rows = summarize([
    { fn: 'static', mode: 'paused', times: [40, 20, 30], toRunning: [10, 5, 8] },
    { fn: 'static', mode: 'removed', times: [400, 300, 500], toRunning: [250, undefined, 300] },
    { fn: 'node20', mode: 'stopped', times: [310, 290, 900], toRunning: [undefined, undefined, undefined] },
  ]);
  assert.deepEqual(rows[0], { fn: 'static', mode: 'paused', n: 3, p50: 30, p99: 40, min: 20, max: 40, toRunningP50: 8, afterRunningP50: 22, vsRemoved: 0.075 });
  assert.equal(rows[1].vsRemoved, 1);
  assert.deepEqual([rows[1].toRunningP50, rows[1].afterRunningP50], [250, 150], 'only the wakes whose start was seen are split');
  assert.equal(rows[2].vsRemoved, undefined, 'no removed series for node20');
  const table = formatWakeTable(rows).split('\n');
  assert.match(table[0], /^function\s+mode\s+wakes\s+p50 ms\s+p99 ms\s+min ms\s+max ms\s+goal p50 <= 300\s+p50 \/ removed\s+to running p50\s+running to answer p50$/);
  assert.match(table[1], /^static\s+paused\s+3\s+30\s+40\s+20\s+40\s+met\s+0\.07x\s+8\s+22$/);
  assert.match(table[2], /^static\s+removed\s+3\s+400\s+500\s+300\s+500\s+missed\s+1\.00x\s+250\s+150$/);
  assert.match(table[3], /^node20\s+stopped\s+3\s+310\s+900\s+290\s+900\s+missed\s+-\s+-\s+-$/);
});

test('BENCH_MODES and BENCH_FUNCTIONS name what is wrong', () => {
  assert.deepEqual(parseWakeModes('paused, removed,paused'), ['paused', 'removed']);
  assert.throws(() => parseWakeModes('paused,frozen'), /BENCH_MODES: unknown keep mode "frozen" \(expected a comma-separated list of paused, stopped, removed\)/);
  assert.throws(() => parseWakeModes(''), /BENCH_MODES: unknown keep mode ""/);
  assert.deepEqual(parseWakeFunctions('static,node20'), ['static', 'node20']);
  assert.throws(() => parseWakeFunctions('node20,python'), /BENCH_FUNCTIONS: unknown function "python" \(expected a comma-separated list of node20, static, echo\)/);
});

test('a wake is split at the start event inside it; none inside leaves it unsplit', () => {
  const windows = [
    { sentAt: 1000, answeredAt: 1400 },
    { sentAt: 2000, answeredAt: 2300 },
    { sentAt: 3000, answeredAt: 3100 },
  ];
  // 900: the deploy's own start, before the first wake; 2950: before the third wake was sent.
  assert.deepEqual(startedAfter(windows, [900, 1250, 2100, 2950]), [250, 100, undefined]);
});

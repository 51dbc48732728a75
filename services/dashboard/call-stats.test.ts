import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BUCKET_MS, BUCKETS, CallStats, FIGURE_BUCKETS } from './call-stats.js';

describe('CallStats', () => {
  it('counts calls, 5xx errors and latency quantiles over the last minute', () => {
    let now = 1_000 * BUCKET_MS;
    const stats = new CallStats(() => now);
    for (let i = 0; i < 15; i++) stats.called('fn.ns', 200, 10);
    for (let i = 0; i < 4; i++) stats.called('fn.ns', 500, 12);
    stats.called('fn.ns', 404, 700);
    const f = stats.figures('fn', 'ns');
    assert.equal(f.calls, 20);
    assert.equal(f.errorRate, 4 / 20, '4xx is not an error, 5xx is');
    assert.equal(f.rate, 20 / 60);
    // Bins are a third of a doubling wide and report their upper edge: never below the truth.
    assert.ok(f.p50Ms! >= 10 && f.p50Ms! < 13, `p50 ${f.p50Ms}`);
    assert.ok(f.p99Ms! >= 700 && f.p99Ms! < 900, `p99 ${f.p99Ms}`);
    assert.equal(stats.figures('other', 'ns').calls, 0);
    assert.equal(stats.figures('other', 'ns').p50Ms, null);
  });

  it('forgets calls older than the window and keeps a 3-minute series', () => {
    let now = 2_000 * BUCKET_MS;
    const stats = new CallStats(() => now);
    stats.called('fn.ns', 200, 5);
    now += FIGURE_BUCKETS * BUCKET_MS;
    stats.called('fn.ns', 503, 5);
    stats.called('fn.ns', 200, 5);
    const f = stats.figures('fn', 'ns');
    assert.equal(f.calls, 2, 'the first call fell out of the last minute');
    assert.equal(f.errorRate, 0.5);
    const series = stats.series('fn', 'ns');
    assert.equal(series.length, BUCKETS);
    assert.deepEqual(series.map((p) => p.calls).filter((n) => n > 0), [1, 2]);
    assert.equal(series.at(-1)!.errors, 1);
    assert.equal(series.at(-1)!.rate, 2 / (BUCKET_MS / 1000));
    now += BUCKETS * BUCKET_MS;
    assert.equal(stats.figures('fn', 'ns').calls, 0);
    assert.ok(stats.series('fn', 'ns').every((p) => p.calls === 0), 'the ring was cleared, not wrapped around');
  });

  it('clears skipped buckets when calls resume after a gap shorter than the ring', () => {
    let now = 3_000 * BUCKET_MS;
    const stats = new CallStats(() => now);
    for (let i = 0; i < 5; i++) {
      stats.called('fn.ns', 200, 5);
      now += BUCKET_MS;
    }
    now += (BUCKETS - 3) * BUCKET_MS;
    stats.called('fn.ns', 200, 5);
    const total = stats.series('fn', 'ns').reduce((n, p) => n + p.calls, 0);
    assert.equal(total, 3, 'two of the five early buckets left the 3-minute ring');
  });
});

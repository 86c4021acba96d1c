import assert from 'node:assert/strict';
import { describe, it, test } from 'node:test';
import { collectionKind, describeBound, describeCollections, latencyBuckets, p99Bound } from './fleet-stats.ts';

/** A /metrics text as prom-client writes a histogram: cumulative buckets, one line per label set. */
function metrics(counts: Record<string, number[]>): string {
  const bounds = ['0.005', '0.01', '0.025', '0.05', '+Inf'];
  return Object.entries(counts).flatMap(([labels, values]) => bounds.map((le, i) => `pswm_http_request_duration_seconds_bucket{le="${le}",${labels}} ${values[i]}`)).join('\n');
}

describe('a server histogram read between two scrapes', () => {
  const polls = 'method="GET",route="/api/v1/agent/desired-state",status_code="304"';
  const other = 'method="GET",route="/api/v1/agent/desired-state",status_code="200"';

  it('sums the label sets of one route and status only', () => {
    const buckets = latencyBuckets(`# HELP x\n${metrics({ [polls]: [1, 2, 3, 4, 5], [other]: [100, 100, 100, 100, 100] })}`, '/api/v1/agent/desired-state', '304');
    assert.deepEqual([...buckets], [[0.005, 1], [0.01, 2], [0.025, 3], [0.05, 4], [Infinity, 5]]);
  });

  it('finds the bucket under which 99 % of the answers counted between the reads fell', () => {
    const before = latencyBuckets(metrics({ [polls]: [1000, 1000, 1000, 1000, 1000] }), '/api/v1/agent/desired-state', '304');
    // 100 new answers: 90 under 5 ms, 9 more under 25 ms, the last under 50 ms
    const after = latencyBuckets(metrics({ [polls]: [1090, 1090, 1099, 1100, 1100] }), '/api/v1/agent/desired-state', '304');
    assert.deepEqual(p99Bound(before, after), { boundMs: 25, count: 100 });
    assert.equal(describeBound(p99Bound(before, after)), '≤ 25 ms (100)');
    const slow = latencyBuckets(metrics({ [polls]: [1000, 1000, 1000, 1000, 1100] }), '/api/v1/agent/desired-state', '304');
    assert.equal(describeBound(p99Bound(before, slow)), 'past the last bucket (100)');
    assert.equal(describeBound(p99Bound(before, before)), '— (0)');
  });
});

test('describeCollections sums the collections and says the longest of each kind', () => {
  assert.equal(describeCollections([]), 'no collection ≥ 5 ms');
  assert.equal(
    describeCollections([{ gcAt: 1, gcMs: 12, gcKind: 'minor' }, { gcAt: 2, gcMs: 30, gcKind: 'major' }, { gcAt: 3, gcMs: 19, gcKind: 'minor' }]),
    '3 collections, 61 ms (minor 2 × 19 ms at most, major 1 × 30 ms at most)',
  );
  // V8's reasons tell an atomic full collection (for Buffers' memory) from one for the heap's growth
  assert.equal(
    describeCollections([{ gcAt: 1, gcMs: 80, gcKind: 'major', gcReasons: ['external memory'] }, { gcAt: 2, gcMs: 30, gcKind: 'major' }]),
    '2 collections, 110 ms (major for external memory 1 × 80 ms at most, major 1 × 30 ms at most)',
  );
  assert.equal(collectionKind({ gcAt: 1, gcMs: 80, gcKind: 'major', gcReasons: ['forced'], youngMB: 2, heapMB: 90 }), 'major for forced: young 2 MB, heap 90 MB after');
  assert.equal(collectionKind({ gcAt: 1, gcMs: 80, gcKind: 'major', gcReasons: ['external memory'], youngMB: 0, heapMB: 102, externalMB: 70 }), 'major for external memory: young 0 MB, heap 102 MB, external 70 MB after');
  assert.equal(
    collectionKind({ gcAt: 1, gcMs: 80, gcKind: 'major', gcReasons: ['external memory'], youngMB: 0, heapMB: 102, externalMB: 10, externalPeakMB: 76, sinceMajorS: 140 }),
    'major for external memory: young 0 MB, heap 102 MB, external 10 MB after; external up to 76 MB over the 140 s since the previous major one',
  );
});

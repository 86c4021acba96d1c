import assert from 'node:assert/strict';
import { test } from 'node:test';
import { judgeClaim, type ClaimRow, type DuplicatePolicy } from './socket-claims.ts';

const POLICY: DuplicatePolicy = { takeovers: 3, windowMs: 60_000, quietMs: 600_000 };
const at = (seconds: number) => new Date(Date.UTC(2026, 0, 1) + seconds * 1000);
const peer = (address: string) => ({ address, hostname: 'vm-1' });

/** Feeds connects of (instance, address, second) in order, as the database row would see them. */
function replay(connects: Array<[string, string, number]>, policy = POLICY, closedAfterEach = false) {
  let row: ClaimRow | undefined;
  return connects.map(([instance, address, second]) => {
    const judged = judgeClaim(row, { instance, peer: peer(address), now: at(second) }, policy);
    row = { ...judged.row, holder: closedAfterEach ? null : judged.row.holder };
    return judged;
  });
}

test('a first socket is no takeover; each newer socket gets a higher generation', () => {
  const [first, second] = replay([['a', '10.0.0.1', 0], ['a', '10.0.0.1', 5]]);
  assert.equal(first.row.generation, 1);
  assert.equal(first.takeover, false);
  assert.equal(second.row.generation, 2);
  assert.equal(second.takeover, false, 'the same agent process reconnecting over its own half-open socket');
});

test('two processes taking the socket from each other are flagged at the threshold, once', () => {
  const judged = replay([['a', '10.0.0.1', 0], ['b', '10.0.0.2', 1], ['a', '10.0.0.1', 2], ['b', '10.0.0.2', 3], ['a', '10.0.0.1', 4]]);
  assert.deepEqual(judged.map((j) => j.takeover), [false, true, true, true, true]);
  assert.deepEqual(judged.map((j) => j.duplicate), [false, false, false, true, true]);
  assert.deepEqual(judged.map((j) => j.newlyFlagged), [false, false, false, true, false]);
  const last = judged.at(-1)!.row;
  assert.deepEqual(last.duplicate_since, at(3));
  assert.deepEqual(last.duplicate_until, at(4 + 600), 'each takeover while flagged extends the flag');
  assert.deepEqual(last.duplicate_peers.map((p) => p.address).sort(), ['10.0.0.1', '10.0.0.2']);
});

test('takeovers spread wider than the window are not a flap', () => {
  const judged = replay([['a', '10.0.0.1', 0], ['b', '10.0.0.2', 1], ['a', '10.0.0.1', 70], ['b', '10.0.0.2', 140]]);
  assert.ok(judged.every((j) => !j.duplicate));
  assert.equal(judged.at(-1)!.row.takeovers, 1);
});

test('reconnects after the socket closed are no takeovers: an agent restarting in a loop is not a duplicate', () => {
  const judged = replay([['a', '10.0.0.1', 0], ['b', '10.0.0.1', 1], ['c', '10.0.0.1', 2], ['d', '10.0.0.1', 3]], POLICY, true);
  assert.ok(judged.every((j) => !j.takeover && !j.duplicate));
});

test('the flag lapses after the quiet period; a new flap raises it (and audits) again', () => {
  const policy = { ...POLICY, quietMs: 10_000 };
  const judged = replay([
    ['a', '10.0.0.1', 0], ['b', '10.0.0.2', 1], ['a', '10.0.0.1', 2], ['b', '10.0.0.2', 3],
    ['b', '10.0.0.2', 100], ['a', '10.0.0.1', 101], ['b', '10.0.0.2', 102], ['a', '10.0.0.1', 103],
  ], policy);
  assert.deepEqual(judged.map((j) => j.newlyFlagged), [false, false, false, true, false, false, false, true]);
  assert.deepEqual(judged.at(-1)!.row.duplicate_since, at(103));
});

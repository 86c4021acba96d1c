import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spreadSweep } from './keepalive.ts';

function fleet(size: number): Map<number, number> {
  return new Map(Array.from({ length: size }, (_, i) => [i, i]));
}

test('each tick visits its share of the connections and one interval visits every connection once', () => {
  const items = fleet(1000);
  const visits = new Map<number, number>();
  const perTick: number[] = [];
  const sweep = spreadSweep(items, (i) => visits.set(i, (visits.get(i) ?? 0) + 1), { intervalMs: 30_000, tickMs: 1000 });
  sweep.stop();
  for (let tick = 0; tick < 30; tick++) {
    const before = [...visits.values()].reduce((a, b) => a + b, 0);
    sweep.tick();
    perTick.push([...visits.values()].reduce((a, b) => a + b, 0) - before);
  }
  assert.equal(visits.size, 1000);
  assert.ok([...visits.values()].every((n) => n === 1), 'nobody is visited twice in one interval');
  assert.ok(Math.max(...perTick) <= Math.ceil(1000 / 30), `no tick does more than its share: ${Math.max(...perTick)}`);
});

test('connections added or removed between ticks are visited or skipped without double visits', () => {
  const items = fleet(10);
  const visited: number[] = [];
  const sweep = spreadSweep(items, (i) => visited.push(i), { intervalMs: 5000, tickMs: 1000 });
  sweep.stop();
  sweep.tick(); // 0, 1
  items.delete(2);
  items.set(10, 10);
  for (let tick = 0; tick < 5; tick++) sweep.tick();
  assert.deepEqual(visited.slice(0, 10), [0, 1, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.equal(new Set(visited.slice(0, 10)).size, 10);
});

test('a small fleet is still visited once per interval, not once per pass of its few ticks', () => {
  const items = fleet(3);
  const visited: number[] = [];
  const sweep = spreadSweep(items, (i) => visited.push(i), { intervalMs: 5000, tickMs: 1000 });
  sweep.stop();
  for (let tick = 0; tick < 5; tick++) sweep.tick();
  assert.deepEqual(visited, [0, 1, 2], 'one interval: one visit each');
  for (let tick = 0; tick < 5; tick++) sweep.tick();
  assert.deepEqual(visited, [0, 1, 2, 0, 1, 2]);
});

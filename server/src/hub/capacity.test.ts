import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agentSocketCapacity, parseOpenFileLimit } from './capacity.ts';

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            20000                524288               files
Max locked memory         8388608              8388608              bytes
`;

test('the soft open-file limit is read from /proc/self/limits; unlimited or missing is unknown', () => {
  assert.equal(parseOpenFileLimit(LIMITS), 20000);
  assert.equal(parseOpenFileLimit(LIMITS.replace('20000               ', 'unlimited           ')), undefined);
  assert.equal(parseOpenFileLimit('Limit Soft Hard\n'), undefined);
});

test('the capacity leaves a reserve below the open-file limit, or is what the admin configured', () => {
  assert.equal(agentSocketCapacity(20000), 19000);
  assert.equal(agentSocketCapacity(1024), 768);
  assert.equal(agentSocketCapacity(100), 0);
  assert.equal(agentSocketCapacity(undefined), Number.POSITIVE_INFINITY);
  assert.equal(agentSocketCapacity(20000, 5000), 5000);
});

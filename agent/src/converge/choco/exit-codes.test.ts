import assert from 'node:assert/strict';
import { test } from 'node:test';
import { interpretChocoExit } from './exit-codes.ts';

test('0 is success, 1641 and 3010 are success with a reboot pending, the rest fail', () => {
  assert.deepEqual(interpretChocoExit(0, 'win32'), { exitCode: 0, outcome: 'ok' });
  assert.deepEqual(interpretChocoExit(1641, 'win32'), { exitCode: 1641, outcome: 'reboot-required' });
  assert.deepEqual(interpretChocoExit(3010, 'win32'), { exitCode: 3010, outcome: 'reboot-required' });
  for (const code of [1, -1, 2, 350, 1604, null]) assert.equal(interpretChocoExit(code, 'win32').outcome, 'failed');
});

test('codes truncated to 8 bits off Windows are read back as choco meant them', () => {
  assert.deepEqual(interpretChocoExit(194, 'linux'), { exitCode: 3010, outcome: 'reboot-required' });
  assert.deepEqual(interpretChocoExit(105, 'linux'), { exitCode: 1641, outcome: 'reboot-required' });
  assert.deepEqual(interpretChocoExit(255, 'linux'), { exitCode: -1, outcome: 'failed' });
  assert.deepEqual(interpretChocoExit(194, 'win32'), { exitCode: 194, outcome: 'failed' });
});

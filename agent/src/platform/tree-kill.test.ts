import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildTreeKillCommand } from './tree-kill.ts';

test('on windows the timeout kills the tree with taskkill /T /F', () => {
  assert.deepEqual(buildTreeKillCommand(4242), { command: 'taskkill', args: ['/T', '/F', '/PID', '4242'] });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDryRun } from './dry-run-output.ts';

test('each item says in_sync, would change, drifted or skipped with the reason', () => {
  const text = formatDryRun([
    { kind: 'script', name: 'lab-motd', status: 'drifted', reason: 'check exited 1', wouldChange: true },
    { kind: 'script', name: 'chrony-pool', status: 'in_sync' },
    { kind: 'script', name: 'cleanup', status: 'skipped', reason: 'dry run: would run (no check script)', wouldChange: true },
    { kind: 'package', name: 'git', status: 'skipped', reason: 'choco is not installed' },
    { kind: 'external_fact', name: 'bitlocker', status: 'failed', reason: 'output is not a JSON object' },
  ]);
  assert.equal(text, [
    'script lab-motd          drifted (check exited 1), would change',
    'script chrony-pool       in_sync',
    'script cleanup           would change (dry run: would run (no check script))',
    'package git              skipped (choco is not installed)',
    'external_fact bitlocker  failed (output is not a JSON object)',
    '',
  ].join('\n'));
  assert.equal(formatDryRun([]), 'dry run: nothing to converge\n');
});

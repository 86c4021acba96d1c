import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import reportSchema from '@pswm/schemas/json/report.schema.json' with { type: 'json' };
import type { ConvergeResult } from '../converge/converge.ts';
import { toWireReport, toWireScriptRun } from './wire.ts';

const validateReport = addFormats.default(new Ajv2020({ allErrors: true, strict: false })).compile(reportSchema);
const SHA = 'a'.repeat(64);

const converged: ConvergeResult = {
  items: [
    { kind: 'script', name: 'lab-motd', status: 'drifted', reason: 'check exited 1', wouldChange: true },
    { kind: 'package', name: 'git', status: 'skipped', reason: 'choco is not installed' },
  ],
  scriptRuns: [
    { script: 'lab-motd', phase: 'check', shell: 'sh', sha256: SHA, exitCode: 1, timedOut: false, stdout: 'missing', stderr: '', stdoutTruncated: false, stderrTruncated: false, durationMs: 12.6, startedAt: '2026-01-01T00:00:00.000Z' },
    { script: 'lab-motd', phase: 'script', shell: 'sh', sha256: SHA, exitCode: null, signal: 'SIGKILL', timedOut: true, stdout: 'x', stderr: '', stdoutTruncated: true, stderrTruncated: false, durationMs: 30000, startedAt: '2026-01-01T00:00:01.000Z' },
  ],
  chocoRuns: [
    { operation: 'install', package: 'vlc', version: '3.0.21', exitCode: 3010, output: 'installed', rebootRequired: true, timedOut: false, durationMs: 900, startedAt: '2026-01-01T00:00:02.000Z' },
  ],
  chocoPackages: [{ name: 'vlc', version: '3.0.21', pinned: true }],
  rebootRequired: true,
};

test('a converge result becomes a report body the server schema accepts', () => {
  const report = toWireReport({
    startedAt: new Date('2026-01-01T00:00:00Z'),
    finishedAt: new Date('2026-01-01T00:00:05Z'),
    dryRun: false,
    revision: 'abc123',
    document: SHA,
    facts: { hostname: 'lab-01', os: { family: 'linux' }, 'external.bitlocker': { error: 'not JSON' } },
    converged,
    extraDrift: [{ kind: 'external_fact', name: 'bitlocker', status: 'failed', reason: 'not JSON' }],
  });
  assert.ok(validateReport(report), JSON.stringify(validateReport.errors));
  assert.deepEqual(report.script_runs!.map((r) => [r.phase, r.exit_code, r.duration_ms, r.signal]), [['check', 1, 13, undefined], ['apply', null, 30000, 'SIGKILL']]);
  assert.deepEqual(report.choco_runs![0], { id: report.choco_runs![0].id, operation: 'install', package: 'vlc', version: '3.0.21', exit_code: 3010, timed_out: false, output: 'installed', reboot_required: true, duration_ms: 900, started_at: '2026-01-01T00:00:02.000Z' });
  assert.deepEqual(report.drift, [
    { kind: 'script', name: 'lab-motd', status: 'drifted', reason: 'check exited 1' },
    { kind: 'package', name: 'git', status: 'skipped', reason: 'choco is not installed' },
    { kind: 'external_fact', name: 'bitlocker', status: 'failed', reason: 'not JSON' },
  ]);
  assert.equal(new Set([report.id, ...report.script_runs!.map((r) => r.id), report.choco_runs![0].id]).size, 4, 'every id is its own');
});

test('an iteration without a desired state still reports its facts, and nothing else', () => {
  const report = toWireReport({ startedAt: new Date(0), finishedAt: new Date(1), dryRun: true, facts: { hostname: 'h' } });
  assert.ok(validateReport(report), JSON.stringify(validateReport.errors));
  assert.deepEqual(Object.keys(report).sort(), ['dry_run', 'facts', 'finished_at', 'id', 'started_at']);
});

test('a script that could not start tells why in stderr', () => {
  const run = toWireScriptRun({ ...converged.scriptRuns[0], exitCode: null, spawnError: 'spawn sh ENOENT', stderr: '' });
  assert.equal(run.stderr, 'pswm: could not start: spawn sh ENOENT');
});

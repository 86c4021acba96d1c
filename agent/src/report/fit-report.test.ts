import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cutUtf8, fitReport, REPORT_HEADROOM_BYTES } from './fit-report.ts';
import type { WireReport } from './wire.ts';

const base: WireReport = { id: '00000000-0000-4000-8000-000000000001', started_at: '2026-01-01T00:00:00Z', finished_at: '2026-01-01T00:00:01Z', dry_run: false };
const run = (stdout: string) => ({ id: '00000000-0000-4000-8000-000000000002', script: 's', sha256: 'a'.repeat(64), phase: 'apply' as const, shell: 'sh', exit_code: 0, timed_out: false, stdout, stderr: '', stdout_truncated: false, stderr_truncated: false, duration_ms: 1, started_at: '2026-01-01T00:00:00Z' });
const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));

test('a report within the limit is left as it is', () => {
  const report = { ...base, facts: { a: 'x'.repeat(1000) } };
  assert.deepEqual(fitReport(report, 100_000), { report, dropped: [] });
});

test('over the limit, the largest output is cut and flagged first, then the largest facts give way', () => {
  const limit = 200_000;
  const report = { ...base, script_runs: [run('o'.repeat(10_000))], facts: { small: 1, big: 'f'.repeat(150_000), mid: 'm'.repeat(60_000) } };
  const { report: fitted, dropped } = fitReport(report, limit);
  assert.ok(bytes(fitted) <= limit - REPORT_HEADROOM_BYTES, `${bytes(fitted)} bytes`);
  assert.equal(fitted.script_runs![0].stdout, '', 'the output went first');
  assert.equal(fitted.script_runs![0].stdout_truncated, true);
  assert.match(String((fitted.facts!.big as { error: string }).error), /left out: 150002 bytes, over the server's report limit of 200000 bytes/);
  assert.equal(fitted.facts!.small, 1);
  assert.equal(fitted.facts!.mid, 'm'.repeat(60_000), 'only as much as needed');
  assert.deepEqual(dropped.map((d) => d.path), ['/script_runs/0/stdout', '/facts/big']);
  assert.equal(report.script_runs[0].stdout.length, 10_000, 'the input is not changed');
});

test('output is cut on a character boundary', () => {
  assert.equal(cutUtf8('aé€', 4), 'aé');
  assert.equal(cutUtf8('aé€', 5), 'aé');
  assert.equal(cutUtf8('aé€', 6), 'aé€');
});

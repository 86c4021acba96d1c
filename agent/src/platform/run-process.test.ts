// Bounded runs with real processes: setsid, double forks and pipes held open by a background child
// must not stretch a run past its timeout or its exit, under each Linux containment method.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { waitForProcessGone } from '../../test/support/processes.ts';
import { makeTempDir } from '../../test/support/temp-dir.ts';
import { cgroupParent } from './containment/cgroup.ts';
import type { ContainmentMethod } from './containment/containment.ts';
import { runProcess } from './run-process.ts';

const METHODS: Array<{ method: ContainmentMethod; skip: string | false }> = [
  { method: 'cgroup', skip: process.platform !== 'linux' ? 'Linux only' : cgroupParent() ? false : 'no writable cgroup v2 here' },
  { method: 'process-table', skip: process.platform !== 'linux' ? 'Linux only' : false },
];

const sh = (script: string, over: { timeoutSeconds?: number; method: ContainmentMethod; maxMemoryMb?: number; cwd?: string }) =>
  runProcess({ command: 'sh', args: ['-c', script], cwd: over.cwd ?? process.cwd(), timeoutSeconds: over.timeoutSeconds ?? 30, maxOutputBytes: 65536, killGraceMs: 300, containment: over.method, maxMemoryMb: over.maxMemoryMb });

for (const { method, skip } of METHODS) {
  test(`${method}: a setsid child holding stdout does not outlive the timeout`, { skip, timeout: 20_000 }, async () => {
    // the case: `setsid sleep 40 & sleep 1004` with a 3 s timeout took 40 s
    const result = await sh('setsid sleep 40 & echo $!; sleep 1004', { timeoutSeconds: 1, method });
    const escaped = Number(result.stdout.trim());
    assert.ok(escaped > 0, `pid printed: ${result.stdout}`);
    assert.equal(result.timedOut, true);
    assert.ok(result.durationMs < 5000, `ended after ${result.durationMs} ms`);
    assert.equal(await waitForProcessGone(escaped), true, 'the setsid child is gone');
  });

  test(`${method}: a script that exits 0 while a background child keeps stdout open is not "timed out"`, { skip, timeout: 20_000 }, async () => {
    const result = await sh('sleep 60 & echo $!; echo done', { timeoutSeconds: 10, method });
    const [child, done] = result.stdout.trim().split('\n');
    assert.equal(done, 'done');
    assert.equal(result.exitCode, 0);
    assert.equal(result.timedOut, false);
    assert.ok(result.durationMs < 5000, `ended after ${result.durationMs} ms`);
    assert.equal(await waitForProcessGone(Number(child)), true, 'the background child ends with the run');
  });

  test(`${method}: a double-forked daemon that let go of every pipe ends with the run`, { skip, timeout: 20_000 }, async (t) => {
    const dir = await makeTempDir(t);
    // the intermediate subshell exits at once: the daemon is re-parented to init and has no pipe of ours
    const result = await sh(`(setsid sh -c 'echo $$ > daemon.pid; exec sleep 60' </dev/null >/dev/null 2>&1 &); sleep 0.3; echo started`, { method, cwd: dir });
    assert.equal(result.stdout, 'started\n');
    assert.equal(result.exitCode, 0);
    const daemon = Number(await readFile(path.join(dir, 'daemon.pid'), 'utf8'));
    assert.equal(await waitForProcessGone(daemon), true, 'the daemon is gone');
  });
}

test('max_memory_mb stops a script that allocates past it', { skip: process.platform === 'linux' ? false : 'Linux only', timeout: 60_000 }, async () => {
  // 100 MB in one string; 48 MiB is plenty for perl itself. The same run without the limit proves
  // the limit made the difference. (memory.max where a memory controller is delegated, else RLIMIT_AS)
  const allocate = `perl -e '$x = "x" x 100_000_000; print length($x), "\\n"'`;
  const limited = await sh(allocate, { method: cgroupParent() ? 'cgroup' : 'process-table', maxMemoryMb: 48 });
  assert.notEqual(limited.exitCode, 0, `exit ${limited.exitCode} ${limited.signal ?? ''}`);
  assert.doesNotMatch(limited.stdout, /100000000/);
  const free = await sh(allocate, { method: 'process-table' });
  assert.equal(free.stdout, '100000000\n', 'without the limit the same script runs');
});

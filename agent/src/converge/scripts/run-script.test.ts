import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { waitForProcessGone } from '../../../test/support/processes.ts';
import { makeTempDir } from '../../../test/support/temp-dir.ts';
import { runScript, type RunScriptOptions } from './run-script.ts';

const posixOnly = { skip: process.platform === 'win32' ? 'POSIX shells' : false };

async function options(t: import('node:test').TestContext, over: Partial<RunScriptOptions>): Promise<RunScriptOptions> {
  const dir = await makeTempDir(t);
  return { shell: 'sh', content: 'true', timeoutSeconds: 30, maxOutputBytes: 65536, cwd: dir, scriptsDir: path.join(dir, 'scripts_cache'), ...over };
}

test('exit code, stdout and stderr of a script are reported', posixOnly, async (t) => {
  const result = await runScript(await options(t, { shell: 'bash', content: 'echo out; echo err >&2; exit 7' }));
  assert.equal(result.exitCode, 7);
  assert.equal(result.stdout, 'out\n');
  assert.equal(result.stderr, 'err\n');
  assert.equal(result.timedOut, false);
  assert.equal(result.stdoutTruncated, false);
  assert.equal(result.skippedReason, undefined);
});

test('the script runs in cwd with the extra environment and its file is removed afterwards', posixOnly, async (t) => {
  const opts = await options(t, { content: 'pwd; echo "$GREETING"', env: { GREETING: 'hello' } });
  const result = await runScript(opts);
  assert.equal(result.exitCode, 0);
  assert.equal(result.stdout, `${opts.cwd}\nhello\n`);
  assert.deepEqual(await readdir(opts.scriptsDir), []);
});

test('output past the cap is dropped per stream while the pipe is drained to the end', posixOnly, async (t) => {
  // 1 MiB on stdout would block a script whose pipe is not drained; the exit code proves it ran on
  const content = 'head -c 1048576 /dev/zero | tr "\\0" a; printf 12345 >&2; exit 3';
  const result = await runScript(await options(t, { content, maxOutputBytes: 10 }));
  assert.equal(result.exitCode, 3);
  assert.equal(result.stdout, 'aaaaaaaaaa');
  assert.equal(result.stdoutTruncated, true);
  assert.equal(result.stderr, '12345');
  assert.equal(result.stderrTruncated, false);
});

// the children let go of stdout so a survivor shows up as a live PID, not as a hung pipe
test('a timeout kills the script and the child it started', { ...posixOnly, timeout: 20_000 }, async (t) => {
  const result = await runScript(await options(t, { content: 'sleep 300 >/dev/null 2>&1 &\necho $!\nwait', timeoutSeconds: 0.5, killGraceMs: 200 }));
  const childPid = Number(result.stdout.trim());
  assert.ok(childPid > 0, `child pid printed: ${result.stdout}`);
  assert.equal(result.timedOut, true);
  assert.equal(result.signal, 'SIGTERM');
  assert.equal(await waitForProcessGone(childPid), true);
});

test('a child that ignores SIGTERM is killed after the grace period', { ...posixOnly, timeout: 20_000 }, async (t) => {
  const content = `sh -c 'trap "" TERM; exec sleep 300' >/dev/null 2>&1 &\necho $!\nwait`;
  const result = await runScript(await options(t, { content, timeoutSeconds: 0.5, killGraceMs: 200 }));
  const childPid = Number(result.stdout.trim());
  assert.ok(childPid > 0, `child pid printed: ${result.stdout}`);
  assert.equal(result.timedOut, true);
  assert.equal(await waitForProcessGone(childPid), true);
});

test('a shell of another platform is skipped with the reason', async (t) => {
  const result = await runScript(await options(t, { shell: 'cmd', content: 'echo hi', platform: 'linux' }));
  assert.equal(result.exitCode, null);
  assert.equal(result.skippedReason, 'shell cmd is only available on windows, this is linux');
});

test('a shell that is not installed is skipped with the reason', async (t) => {
  const opts = await options(t, { shell: 'pwsh', platform: 'linux', env: {} });
  const savedPath = process.env.PATH;
  process.env.PATH = opts.cwd; // an empty folder: no pwsh anywhere
  t.after(() => {
    process.env.PATH = savedPath;
  });
  const result = await runScript(opts);
  assert.equal(result.skippedReason, 'shell pwsh is not installed (pwsh not found on PATH)');
});

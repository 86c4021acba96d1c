import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createCappedOutput } from './capped-output.ts';
import { createContainment, type ContainmentMethod } from './containment/containment.ts';

export interface RunProcessOptions {
  command: string;
  args: string[];
  cwd: string;
  env?: Record<string, string>;
  timeoutSeconds: number;
  maxOutputBytes: number;
  /** Time between the polite SIGTERM and SIGKILL, and how long output is still read after the
   * program itself exited (a background child may hold the pipes open). */
  killGraceMs?: number;
  /** Memory limit of the program and everything it starts (MiB); 0 or undefined = none. */
  maxMemoryMb?: number;
  /** How the processes are tracked; default the best this machine offers (tests force one). */
  containment?: ContainmentMethod;
}

export interface ProcessResult {
  exitCode: number | null;
  signal?: string;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  durationMs: number;
  startedAt: string;
  /** Set when the process could not be started at all (e.g. ENOENT). */
  spawnError?: string;
  /** The kernel killed a process of the run for exceeding `maxMemoryMb` (known with a cgroup). */
  memoryExceeded?: boolean;
}

const DEFAULT_KILL_GRACE_MS = 5000;

/** Runs one program to completion, bounded: the timeout ends it and everything it started (setsid
 * and double forks included, see containment/), output is capped, and once the program itself
 * exits its pipes are read for at most the grace period before whatever it left running is ended.
 * Resolves (never rejects). */
export function runProcess(opts: RunProcessOptions): Promise<ProcessResult> {
  const startedAt = new Date().toISOString();
  const start = performance.now();
  const graceMs = opts.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  const stdout = createCappedOutput(opts.maxOutputBytes);
  const stderr = createCappedOutput(opts.maxOutputBytes);
  const containment = createContainment({ maxMemoryMb: opts.maxMemoryMb, method: opts.containment });
  return new Promise((resolve) => {
    let timedOut = false;
    let exitCode: number | null = null;
    let signal: string | undefined;
    let spawnError: string | undefined;
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    let markExited: () => void = () => {};
    const exited = new Promise<void>((resolve) => (markExited = resolve));
    const line = containment.wrap(opts.command, opts.args);
    const child = spawn(line.command, line.args, {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env, ...containment.env },
      detached: containment.detached,
      windowsHide: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    containment.started(child.pid);
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));

    const finish = async () => {
      if (settled) return;
      settled = true;
      for (const timer of timers) clearTimeout(timer);
      // whatever the run left behind ends with it; quick when nothing is left
      await containment.terminate(graceMs);
      // the exit status arrives with SIGCHLD, which may trail the kill by a moment
      // (the wait's timer is cleared: left running it kept a one-shot `pswm agent --once` alive ~1 s)
      if (child.pid !== undefined) await exitedWithin(exited, 1000);
      child.stdout.destroy();
      child.stderr.destroy();
      const memoryExceeded = containment.memoryExceeded();
      containment.dispose();
      resolve({
        exitCode,
        signal,
        timedOut,
        stdout: stdout.text(),
        stderr: stderr.text(),
        stdoutTruncated: stdout.truncated(),
        stderrTruncated: stderr.truncated(),
        durationMs: Math.round(performance.now() - start),
        startedAt,
        ...(spawnError ? { spawnError } : {}),
        ...(memoryExceeded ? { memoryExceeded } : {}),
      });
    };

    child.on('error', (error) => {
      spawnError = error.message;
      // a process that never started emits no 'close' on every Node version; settle here
      if (child.pid === undefined) void finish();
    });
    child.on('exit', (code, sig) => {
      exitCode = code;
      signal = sig ?? undefined;
      markExited();
      if (settled) return;
      // a background child holding stdout open must not keep the run going: read for the grace
      // period, then finish (which ends the leftovers)
      timers.push(setTimeout(() => void finish(), graceMs));
    });
    child.on('close', () => void finish());
    timers.push(
      setTimeout(() => {
        timedOut = true;
        void finish();
      }, opts.timeoutSeconds * 1000),
    );
  });
}

/** Waits for `exited`, at most `ms`, without leaving a timer behind. */
async function exitedWithin(exited: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([exited, new Promise<void>((wait) => (timer = setTimeout(wait, ms)))]);
  clearTimeout(timer);
}

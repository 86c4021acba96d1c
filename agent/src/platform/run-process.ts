import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createCappedOutput } from './capped-output.ts';
import { buildTreeKillCommand } from './tree-kill.ts';

export interface RunProcessOptions {
  command: string;
  args: string[];
  cwd: string;
  env?: Record<string, string>;
  timeoutSeconds: number;
  maxOutputBytes: number;
  /** Time between the polite SIGTERM and SIGKILL on POSIX. */
  killGraceMs?: number;
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
}

const DEFAULT_KILL_GRACE_MS = 5000;

/** Runs one program to completion with a timeout that ends its whole process tree, and both
 * output streams capped. Resolves (never rejects) once the pipes close, so output written by a
 * grandchild just before it was killed is still captured. */
export function runProcess(opts: RunProcessOptions): Promise<ProcessResult> {
  const isWindows = process.platform === 'win32';
  const startedAt = new Date().toISOString();
  const start = performance.now();
  const stdout = createCappedOutput(opts.maxOutputBytes);
  const stderr = createCappedOutput(opts.maxOutputBytes);
  return new Promise((resolve) => {
    let timedOut = false;
    let exitCode: number | null = null;
    let signal: string | undefined;
    let spawnError: string | undefined;
    const timers: NodeJS.Timeout[] = [];
    // detached on POSIX = the child leads a new process group, so the timeout can signal
    // everything it started (`sleep &`, pipelines) with one kill(-pid). On Windows detached would
    // open a console window instead; taskkill /T covers the tree there.
    const child = spawn(opts.command, opts.args, {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      detached: !isWindows,
      windowsHide: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (error) => {
      spawnError = error.message;
      // a process that never started emits no 'close' on every Node version; settle here
      if (child.pid === undefined) finish(null, null);
    });
    child.on('exit', (code, sig) => {
      exitCode = code;
      signal = sig ?? undefined;
    });
    const killTree = (sig: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      if (isWindows) {
        const kill = buildTreeKillCommand(child.pid);
        spawn(kill.command, kill.args, { stdio: 'ignore', windowsHide: true }).on('error', () => {});
        return;
      }
      try {
        process.kill(-child.pid, sig);
      } catch {
        // the group is already gone
      }
    };
    timers.push(
      setTimeout(() => {
        timedOut = true;
        killTree('SIGTERM');
        timers.push(setTimeout(() => killTree('SIGKILL'), opts.killGraceMs ?? DEFAULT_KILL_GRACE_MS));
      }, opts.timeoutSeconds * 1000),
    );
    let settled = false;
    const finish = (code: number | null, sig: NodeJS.Signals | null) => {
      if (settled) return;
      settled = true;
      for (const timer of timers) clearTimeout(timer);
      // after a timeout, sweep the group once more: a member that ignored SIGTERM and let go of
      // our pipes would otherwise outlive the cancelled SIGKILL timer
      if (timedOut) killTree('SIGKILL');
      resolve({
        exitCode: exitCode ?? code,
        signal: signal ?? sig ?? undefined,
        timedOut,
        stdout: stdout.text(),
        stderr: stderr.text(),
        stdoutTruncated: stdout.truncated(),
        stderrTruncated: stderr.truncated(),
        durationMs: Math.round(performance.now() - start),
        startedAt,
        ...(spawnError ? { spawnError } : {}),
      });
    };
    child.on('close', finish);
  });
}

import { randomUUID } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Platform, Shell } from '@pswm/schemas';
import { findExecutable } from '../../platform/find-executable.ts';
import { currentPlatform } from '../../platform/platform.ts';
import { runProcess, type ProcessResult } from '../../platform/run-process.ts';
import { buildScriptCommand, scriptExtension, scriptFileContent } from './command-line.ts';

export interface RunScriptOptions {
  shell: Shell;
  content: string;
  timeoutSeconds: number;
  maxOutputBytes: number;
  cwd: string;
  /** Where the script file is written for the run (the data folder's scripts_cache/). */
  scriptsDir: string;
  env?: Record<string, string>;
  platform?: Platform;
  killGraceMs?: number;
  /** The script's memory limit in MiB (see platform/containment/). */
  maxMemoryMb?: number;
}

export interface ScriptRunResult extends ProcessResult {
  /** Why the script was not started (shell not available here); exitCode is null then. */
  skippedReason?: string;
}

/** Runs script content with its declared shell in a separate process. A shell that this machine
 * cannot provide yields a result with `skippedReason`, never an exception. */
export async function runScript(opts: RunScriptOptions): Promise<ScriptRunResult> {
  const platform = opts.platform ?? currentPlatform();
  const file = path.join(opts.scriptsDir, randomUUID() + scriptExtension(opts.shell));
  const command = buildScriptCommand(opts.shell, file, platform);
  if (!command.ok) return skipped(command.reason);
  if (!(await findExecutable(command.command))) return skipped(`shell ${opts.shell} is not installed (${command.command} not found on PATH)`);
  await mkdir(opts.scriptsDir, { recursive: true, mode: 0o700 });
  await writeFile(file, scriptFileContent(opts.shell, opts.content), { mode: 0o600 });
  try {
    return await runProcess({ ...command, cwd: opts.cwd, env: opts.env, timeoutSeconds: opts.timeoutSeconds, maxOutputBytes: opts.maxOutputBytes, killGraceMs: opts.killGraceMs, maxMemoryMb: opts.maxMemoryMb });
  } finally {
    await rm(file, { force: true });
  }
}

function skipped(reason: string): ScriptRunResult {
  return {
    exitCode: null,
    timedOut: false,
    stdout: '',
    stderr: '',
    stdoutTruncated: false,
    stderrTruncated: false,
    durationMs: 0,
    startedAt: new Date().toISOString(),
    skippedReason: reason,
  };
}

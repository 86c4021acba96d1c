import type { ScriptRunResult } from '../converge/scripts/run-script.ts';

export type ExternalFactValue = Record<string, unknown> | { error: string };

const STDERR_EXCERPT_CHARS = 500;

/** What a finished external fact script yields: its stdout parsed as a JSON object, or an
 * `{ error }` saying plainly why not. Order matters: a timed-out or truncated run can print
 * something that happens to parse, and must still be an error. */
export function externalFactValue(run: ScriptRunResult, limits: { timeoutSeconds: number; maxOutputBytes: number; maxMemoryMb?: number }): ExternalFactValue {
  if (run.skippedReason) return { error: `not run: ${run.skippedReason}` };
  if (run.spawnError) return { error: `could not start: ${run.spawnError}` };
  if (run.timedOut) return { error: `timed out after ${limits.timeoutSeconds} s` };
  if (run.memoryExceeded) return { error: `killed: used more than max_memory_mb (${limits.maxMemoryMb} MiB)` };
  if (run.exitCode !== 0) {
    const how = run.exitCode === null ? `was killed by ${run.signal ?? 'a signal'}` : `exited with code ${run.exitCode}`;
    return { error: `${how}${stderrExcerpt(run.stderr)}` };
  }
  if (run.stdoutTruncated) return { error: `output exceeded ${limits.maxOutputBytes} bytes and was truncated` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(run.stdout);
  } catch (error) {
    return { error: `output is not valid JSON: ${(error as Error).message}` };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return { error: `output must be a JSON object, got ${describeJson(parsed)}` };
  }
  return parsed as Record<string, unknown>;
}

function stderrExcerpt(stderr: string): string {
  const text = stderr.trim();
  if (!text) return '';
  return `: ${text.length > STDERR_EXCERPT_CHARS ? text.slice(0, STDERR_EXCERPT_CHARS) + '…' : text}`;
}

function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

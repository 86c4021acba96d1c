// converge() speaks camelCase records; the server's report body (schemas/json/report.schema.json)
// speaks snake_case with ids. The conversion happens once, before the report goes into the outbox,
// so the ids it creates are the ones every re-send carries.
import { randomUUID } from 'node:crypto';
import type { ChocoRunRecord } from '../converge/choco/converge-choco.ts';
import type { ConvergeResult } from '../converge/converge.ts';
import type { DriftItem } from '../converge/drift.ts';
import type { ScriptRunRecord } from '../converge/scripts/converge-scripts.ts';
import type { ChocoRun, DriftItem as WireDriftItem, Report, ScriptRun } from '../../../schemas/src/agent-wire.ts';

export type { ScriptRun as WireScriptRun, ChocoRun as WireChocoRun, WireDriftItem, Report as WireReport };

const DURATION_LIMIT_MS = 2_147_483_647;
const durationMs = (ms: number) => Math.min(DURATION_LIMIT_MS, Math.max(0, Math.round(ms)));

export function toWireScriptRun(run: ScriptRunRecord, id: string = randomUUID()): ScriptRun {
  return {
    id,
    script: run.script,
    sha256: run.sha256,
    phase: run.phase === 'check' ? 'check' : 'apply',
    shell: run.shell,
    exit_code: run.exitCode,
    ...(run.signal ? { signal: run.signal } : {}),
    timed_out: run.timedOut,
    // a spawn error has no output of its own; the reader needs to see why nothing ran
    stdout: run.stdout,
    stderr: run.spawnError ? [run.stderr, `pswm: could not start: ${run.spawnError}`].filter(Boolean).join('\n') : run.stderr,
    stdout_truncated: run.stdoutTruncated,
    stderr_truncated: run.stderrTruncated,
    duration_ms: durationMs(run.durationMs),
    started_at: run.startedAt,
  };
}

export function toWireChocoRun(run: ChocoRunRecord, id: string = randomUUID()): ChocoRun {
  return {
    id,
    operation: run.operation,
    package: run.package,
    ...(run.version ? { version: run.version } : {}),
    exit_code: run.exitCode,
    timed_out: run.timedOut,
    output: run.output,
    reboot_required: run.rebootRequired,
    duration_ms: durationMs(run.durationMs),
    started_at: run.startedAt,
  };
}

export function toWireDriftItem(item: DriftItem): WireDriftItem {
  return { kind: item.kind, name: item.name, status: item.status, ...(item.reason ? { reason: item.reason } : {}) };
}

export interface ReportInput {
  id?: string;
  startedAt: Date;
  finishedAt: Date;
  dryRun: boolean;
  revision?: string;
  document?: string;
  facts?: Record<string, unknown>;
  /** Absent when the iteration had no desired state to converge. */
  converged?: ConvergeResult;
  /** Outcomes decided outside converge() (external facts). */
  extraDrift?: WireDriftItem[];
}

export function toWireReport(input: ReportInput): Report {
  const c = input.converged;
  const drift = [...(c?.items.map(toWireDriftItem) ?? []), ...(input.extraDrift ?? [])];
  return {
    id: input.id ?? randomUUID(),
    ...(input.revision ? { revision: input.revision } : {}),
    ...(input.document && /^[0-9a-f]{64}$/.test(input.document) ? { document: input.document } : {}),
    started_at: input.startedAt.toISOString(),
    finished_at: input.finishedAt.toISOString(),
    dry_run: input.dryRun,
    ...(input.facts ? { facts: input.facts } : {}),
    ...(c?.scriptRuns.length ? { script_runs: c.scriptRuns.map((r) => toWireScriptRun(r)) } : {}),
    ...(c?.chocoRuns.length ? { choco_runs: c.chocoRuns.map((r) => toWireChocoRun(r)) } : {}),
    ...(drift.length ? { drift } : {}),
    ...(c?.chocoPackages ? { choco_packages: c.chocoPackages } : {}),
  };
}

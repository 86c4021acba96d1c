// converge() speaks camelCase records; the server's report body (schemas/json/report.schema.json)
// speaks snake_case with ids. The conversion happens once, before the report goes into the outbox,
// so the ids it creates are the ones every re-send carries.
import { randomUUID } from 'node:crypto';
import type { ChocoRunRecord } from '../converge/choco/converge-choco.ts';
import type { AgentChocoPackage } from '../converge/choco/inventory.ts';
import type { ConvergeResult } from '../converge/converge.ts';
import type { DriftItem } from '../converge/drift.ts';
import type { ScriptRunRecord } from '../converge/scripts/converge-scripts.ts';

export interface WireScriptRun {
  id: string;
  script: string;
  sha256: string;
  phase: 'check' | 'apply';
  shell: string;
  exit_code: number | null;
  signal?: string;
  timed_out: boolean;
  stdout: string;
  stderr: string;
  stdout_truncated: boolean;
  stderr_truncated: boolean;
  duration_ms: number;
  started_at: string;
}

export interface WireChocoRun {
  id: string;
  operation: ChocoRunRecord['operation'];
  package: string;
  version?: string;
  exit_code: number | null;
  timed_out: boolean;
  output: string;
  reboot_required: boolean;
  duration_ms: number;
  started_at: string;
}

export interface WireDriftItem {
  kind: 'script' | 'package' | 'external_fact';
  name: string;
  status: DriftItem['status'];
  reason?: string;
}

export interface WireReport {
  id: string;
  revision?: string;
  document?: string;
  started_at: string;
  finished_at: string;
  dry_run: boolean;
  facts?: Record<string, unknown>;
  script_runs?: WireScriptRun[];
  choco_runs?: WireChocoRun[];
  drift?: WireDriftItem[];
  choco_packages?: AgentChocoPackage[];
}

const DURATION_LIMIT_MS = 2_147_483_647;
const durationMs = (ms: number) => Math.min(DURATION_LIMIT_MS, Math.max(0, Math.round(ms)));

export function toWireScriptRun(run: ScriptRunRecord, id: string = randomUUID()): WireScriptRun {
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

export function toWireChocoRun(run: ChocoRunRecord, id: string = randomUUID()): WireChocoRun {
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

export function toWireReport(input: ReportInput): WireReport {
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

import type { CompiledPackage } from '@pswm/schemas';
import type { DriftItem } from '../drift.ts';
import type { ChocoRunner } from './choco-runner.ts';
import { buildChocoArgs } from './command-line.ts';
import { interpretChocoExit } from './exit-codes.ts';
import { readChocoInventory, toAgentChocoPackages, type AgentChocoPackage } from './inventory.ts';
import { planChoco, type ChocoOperation } from './plan.ts';

/** One choco command that changed (or tried to change) the machine, as reported in `choco_runs`. */
export interface ChocoRunRecord {
  operation: ChocoOperation['op'];
  package: string;
  version?: string;
  exitCode: number | null;
  output: string;
  rebootRequired: boolean;
  timedOut: boolean;
  durationMs: number;
  startedAt: string;
}

export interface ChocoState {
  lastUpgradeAllAt?: string;
}

export interface ConvergeChocoInput {
  packages: readonly CompiledPackage[];
  settings: { upgrade_all: boolean; upgrade_interval_hours: number; skip_pinned: boolean };
  state: ChocoState;
  now: Date;
  dryRun: boolean;
  /** The choco to run, or why this machine has none. */
  choco: { ok: true; run: ChocoRunner } | { ok: false; reason: string };
  /** For commands whose package declares no timeout_seconds (choco's own default is 2700 s). */
  defaultTimeoutSeconds?: number;
  platform?: NodeJS.Platform;
}

export interface ConvergeChocoResult {
  items: DriftItem[];
  runs: ChocoRunRecord[];
  /** `agent_choco_packages`; undefined when choco could not be read. */
  inventory?: AgentChocoPackage[];
  state: ChocoState;
  rebootRequired: boolean;
}

const DEFAULT_TIMEOUT_SECONDS = 2700;
/** The item name for `choco upgrade all`; choco reserves "all", so no package has it. */
const UPGRADE_ALL_ITEM = 'all';

/** Reads the inventory, plans, and runs the plan package by package: a failed command ends that
 * package's remaining commands (a pin after a failed install would only fail again) but never the
 * other packages. */
export async function convergeChoco(input: ConvergeChocoInput): Promise<ConvergeChocoResult> {
  const everyPackage = (status: DriftItem['status'], reason: string): DriftItem[] => input.packages.map((p) => ({ kind: 'package', name: p.name, status, reason }));
  if (!input.choco.ok) return { items: everyPackage('skipped', input.choco.reason), runs: [], state: input.state, rebootRequired: false };
  const run = input.choco.run;
  const before = await readChocoInventory(run, input.packages.some((p) => p.ensure === 'latest'));
  if (!before.ok) return { items: everyPackage('failed', before.reason), runs: [], state: input.state, rebootRequired: false };

  const plan = planChoco({
    packages: input.packages,
    inventory: before.inventory,
    upgradeAll: { enabled: input.settings.upgrade_all, intervalHours: input.settings.upgrade_interval_hours, lastRunAt: input.state.lastUpgradeAllAt, skipPinned: input.settings.skip_pinned },
    now: input.now,
  });
  const items: DriftItem[] = [];
  const runs: ChocoRunRecord[] = [];
  const execute = async (operation: ChocoOperation, timeoutSeconds: number | undefined): Promise<ChocoRunRecord> => {
    const result = await run(buildChocoArgs(operation), timeoutSeconds ?? input.defaultTimeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS);
    const { exitCode, outcome } = interpretChocoExit(result.timedOut ? null : result.exitCode, input.platform ?? process.platform);
    const record: ChocoRunRecord = {
      operation: operation.op,
      package: operation.op === 'upgrade-all' ? UPGRADE_ALL_ITEM : operation.package,
      ...('version' in operation && operation.version ? { version: operation.version } : {}),
      exitCode,
      output: [result.stdout, result.stderr, result.spawnError].filter(Boolean).join('\n'),
      rebootRequired: outcome === 'reboot-required',
      timedOut: result.timedOut,
      durationMs: result.durationMs,
      startedAt: result.startedAt,
    };
    runs.push(record);
    return record;
  };

  for (const { package: declared, operations, drift } of plan.packages) {
    const item = (fields: Omit<DriftItem, 'kind' | 'name'>) => items.push({ kind: 'package', name: declared.name, ...fields });
    if (operations.length === 0) item({ status: 'in_sync' });
    else if (input.dryRun) item({ status: 'drifted', reason: drift.join('; '), wouldChange: true });
    else {
      const failure = await firstFailure(operations, (op) => execute(op, 'timeoutSeconds' in op ? op.timeoutSeconds : undefined));
      item(failure ? { status: 'failed', reason: failure } : { status: 'changed', reason: drift.join('; ') });
    }
  }

  let state = input.state;
  if (plan.upgradeAll) {
    const command = `choco ${buildChocoArgs(plan.upgradeAll).join(' ')}`;
    if (input.dryRun) items.push({ kind: 'package', name: UPGRADE_ALL_ITEM, status: 'skipped', reason: `dry run: would run ${command}`, wouldChange: true });
    else {
      const failure = await firstFailure([plan.upgradeAll], (op) => execute(op, undefined));
      items.push({ kind: 'package', name: UPGRADE_ALL_ITEM, ...(failure ? { status: 'failed', reason: failure } : { status: 'changed', reason: command }) });
      state = { ...state, lastUpgradeAllAt: input.now.toISOString() };
    }
  }

  const inventory = runs.length ? await readChocoInventory(run, false) : before;
  return {
    items,
    runs,
    ...(inventory.ok ? { inventory: toAgentChocoPackages(inventory.inventory) } : {}),
    state,
    rebootRequired: runs.some((r) => r.rebootRequired),
  };
}

async function firstFailure(operations: ChocoOperation[], execute: (op: ChocoOperation) => Promise<ChocoRunRecord>): Promise<string | undefined> {
  for (const operation of operations) {
    const record = await execute(operation);
    if (record.exitCode === 0 || record.rebootRequired) continue;
    const what = `choco ${buildChocoArgs(operation).slice(0, 2).join(' ')}`;
    return record.timedOut ? `${what} timed out` : `${what} exited ${record.exitCode}`;
  }
  return undefined;
}

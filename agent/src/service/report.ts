import type { Logger } from '../logs/logger.ts';
import { runProcess } from '../platform/run-process.ts';
import type { PlannedCommand } from './windows-plan.ts';

export type ActionStatus =
  | 'created' | 'updated' | 'unchanged' | 'removed' | 'absent' | 'kept' | 'ran' | 'failed'
  | 'would create' | 'would update' | 'would remove' | 'would run';

export interface ServiceAction {
  step: string;
  /** The file, folder or command line acted on. */
  target: string;
  status: ActionStatus;
  detail?: string;
}

export interface ServiceReport {
  ok: boolean;
  actions: ServiceAction[];
}

/** Collects actions and logs each as it happens ("every action logged"). */
export interface ActionRecorder {
  record(action: ServiceAction): void;
  report(): ServiceReport;
}

export function createRecorder(operation: 'install_svc' | 'uninstall_svc', log?: Logger): ActionRecorder {
  const actions: ServiceAction[] = [];
  return {
    record(action) {
      actions.push(action);
      (action.status === 'failed' ? log?.error : log?.info)?.(`${operation}: ${action.step}`, { target: action.target, status: action.status, ...(action.detail ? { detail: action.detail } : {}) });
    },
    report: () => ({ ok: actions.every((a) => a.status !== 'failed'), actions }),
  };
}

/** A command line as a person would type it (for the report and the log). */
export function formatCommand(cmd: Pick<PlannedCommand, 'command' | 'args'>): string {
  return [cmd.command, ...cmd.args].map((a) => (a === '' || /[\s"]/.test(a) ? `"${a.replace(/"/g, '\\"')}"` : a)).join(' ');
}

/** Runs a planned command, or only records it when `execute` is false (a root prefix, --dry-run,
 * or another OS's plan). Returns whether the command succeeded (true when not executed). */
export async function runPlanned(cmd: PlannedCommand, execute: boolean, recorder: ActionRecorder): Promise<boolean> {
  const target = formatCommand(cmd);
  if (cmd.refused) {
    recorder.record({ step: cmd.step, target, status: 'failed', detail: cmd.refused });
    return false;
  }
  if (!execute) {
    recorder.record({ step: cmd.step, target, status: 'would run' });
    return true;
  }
  const result = await runProcess({ command: cmd.command, args: cmd.args, cwd: process.cwd(), timeoutSeconds: 120, maxOutputBytes: 16 * 1024 });
  const ok = result.exitCode === 0 || (result.exitCode !== null && (cmd.okExitCodes ?? []).includes(result.exitCode));
  const output = (result.stdout + result.stderr).trim().slice(0, 500);
  recorder.record({ step: cmd.step, target, status: ok ? 'ran' : 'failed', ...(!ok ? { detail: result.spawnError ?? `exit code ${result.exitCode}: ${output}` } : {}) });
  return ok;
}

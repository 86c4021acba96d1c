// A report cleaned with the server's own input rules (schemas/src/input-rules.ts) before it goes
// into the outbox, so one odd value can never get the whole report refused (and with it every
// later report that carries the same fact). What cannot be stored is left out item by item: a
// fact's value, a run, a drift item, a package; captured output is repaired instead (the server
// would repair it too). What was left out is said in the report itself, as the drift item
// agent/report-values, so the server knows.
import { sanitizeInput, type InputProblem } from '@pswm/schemas/input-rules';
import type { WireDriftItem, WireReport } from './wire.ts';

export const DROPPED_VALUES_ITEM = 'report-values';
const REASON_LIMIT = 4096;

type Item = Record<string, unknown>;

/** Cleans one list item; any problem outside `repairable` paths drops the whole item. */
function cleanItem<T>(item: T, where: string, repairable: readonly string[], dropped: InputProblem[]): T | undefined {
  const { value, dropped: problems } = sanitizeInput(item, { repairAt: (p) => repairable.includes(p) });
  const real = problems.filter((problem) => !repairable.includes(problem.path));
  if (real.length === 0) return value as T;
  dropped.push(...real.map((problem) => ({ path: `${where}${problem.path}`, reason: `${problem.reason} (the whole item was left out)` })));
  return undefined;
}

function cleanList<T>(items: T[] | undefined, field: string, repairable: readonly string[], dropped: InputProblem[]): T[] | undefined {
  if (!items) return undefined;
  const kept = items.flatMap((item, index) => {
    const clean = cleanItem(item, `/${field}/${index}`, repairable, dropped);
    return clean === undefined ? [] : [clean];
  });
  return kept.length ? kept : undefined;
}

export function sanitizeReport(report: WireReport): { report: WireReport; dropped: InputProblem[] } {
  const dropped: InputProblem[] = [];
  let facts = report.facts;
  if (facts) {
    const result = sanitizeInput(facts);
    dropped.push(...result.dropped.map((problem) => ({ path: `/facts${problem.path}`, reason: problem.reason })));
    facts = (result.value ?? {}) as Record<string, unknown>;
  }
  const clean: Item = {
    ...report,
    ...(facts ? { facts } : {}),
    script_runs: cleanList(report.script_runs, 'script_runs', ['/stdout', '/stderr'], dropped),
    choco_runs: cleanList(report.choco_runs, 'choco_runs', ['/output'], dropped),
    drift: cleanList(report.drift, 'drift', [], dropped),
    choco_packages: cleanList(report.choco_packages, 'choco_packages', [], dropped),
  };
  for (const key of ['script_runs', 'choco_runs', 'drift', 'choco_packages']) if (clean[key] === undefined) delete clean[key];
  return { report: clean as unknown as WireReport, dropped };
}

/** The drift item telling the server what was left out (in_sync when nothing was). */
export function droppedValuesItem(dropped: readonly InputProblem[]): WireDriftItem {
  if (dropped.length === 0) return { kind: 'agent', name: DROPPED_VALUES_ITEM, status: 'in_sync' };
  const list = dropped.map((problem) => `${problem.path} ${problem.reason}`).join('; ');
  const reason = `${dropped.length} value(s) were left out of this report or cut (the server cannot store them, or the report would pass its size limit): ${list}`;
  return { kind: "agent", name: DROPPED_VALUES_ITEM, status: "failed", reason: reason.length > REASON_LIMIT ? `${reason.slice(0, REASON_LIMIT - 1).toWellFormed()}…` : reason };
}

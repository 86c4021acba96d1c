// One reconcile of the policy repository into PostgreSQL, top to bottom. Each stage either continues
// or records why it stopped and returns; nothing here throws for an expected failure.
//
//   sync source → unchanged? no-op → read snapshot → load + validate → compile affected scopes
//   → (one transaction: lock → diff against the applied state → deletion budget → write changed rows
//      → applied revision + reconciliation record) → remember what was applied → audit → outcome
//
// lastAttemptedRevision is set when work starts; appliedRevision moves only inside the apply
// transaction, so a rejected, failed or killed attempt leaves the last good revision in force.
// The instance's memory (memory.ts) holds the applied state it wrote last; while the database's
// applied revision is that one, the diff runs against memory and only affected scopes compile. When
// another instance applied it, the memory takes it in first (the revision from the source, the
// stored inventory from the database), so only affected scopes compile either way.
//
// Every instance hears of a commit (each watches its repository, or polls): with `oneAtATime` a whole
// run holds a lock across instances, so the others wait for the first and then stop at the "already
// applied" check instead of syncing, reading and compiling the same revision only to lose the race
// for the apply lock (at 30,000 agents that was ~230 ms of CPU taken from the winner).
import type postgres from 'postgres';
import type { Logger } from '../logger.ts';
import type { Database } from '../db/database.ts';
import type { PolicySnapshot, PolicySource } from '../git/source.ts';
import { audit } from '../audit.ts';
import { reportFileLimit } from '../file-limit.ts';
import { loadPolicy } from '../../../schemas/src/validate/load-policy.ts';
import { createCompiler, type Compiler } from '../../../schemas/src/compile/compiler.ts';
import type { Policy, PolicyError } from '../../../schemas/src/model.ts';
import { formatError } from '../../../schemas/src/errors.ts';
import { planWrites, storedAfter, type StoredInventory, type WriteCounts, type WritePlan } from '../apply/plan-writes.ts';
import { readStoredInventory } from '../apply/stored-inventory.ts';
import { applyWrites } from '../apply/apply-writes.ts';
import type { InsertMethod } from '../apply/insert-rows.ts';
import { checkDeletionBudget, deletionGuard } from '../../../schemas/src/plan/deletion-budget.ts';
import { desiredRows, planCompile, type DesiredResult } from './desired-rows.ts';
import { adoptApplied, createReconcileMemory, currentApplied, type ReconcileMemory } from './memory.ts';
import { readEnrolledAgents, type EnrolledAgent } from './enrolled-agents.ts';
import { changedAgents, readAgentDocuments } from '../apply/agent-documents.ts';
import { referencedFactPaths } from '../../../schemas/src/compile/selectors.ts';
import { agentsInRemovedPlaces, type OrphanedAgents } from './orphaned-agents.ts';
import { createStageTimer, type StageTimer } from './stage-timer.ts';
import { whileLocked } from '../db/run-lock.ts';
import { bumpDocumentsVersion, markAttemptStarted, readPolicyState, recordReconciliation, type PolicyState } from './status.ts';
import type { ReconcileReason, ReconcileStatus, ReconciliationRecord } from './status.ts';

/** Key of the transaction-level advisory lock that makes one apply at a time across instances. */
export const RECONCILE_LOCK_KEY = 0x7073776d; // "pswm"
/** Key of the lock a whole run holds with `oneAtATime` ("pswr"). */
export const RECONCILE_RUN_LOCK_KEY = 0x70737772;

export type RunExclusively = <T>(work: () => Promise<T>) => Promise<T>;

/** Reconcile runs and agents' scope refreshes one at a time across the instances on `db`. The lock
 * holds a connection of the reconciler's client for the run, so in embedded mode (one process, one connection)
 * the work just runs: the instance's scheduler already takes one at a time. */
export function oneRunAtATime(db: Pick<Database, 'reconciler' | 'embedded'>): RunExclusively {
  return db.embedded ? (work) => work() : (work) => whileLocked(db.reconciler, RECONCILE_RUN_LOCK_KEY, work);
}

export interface ReconcileDeps {
  sql: postgres.Sql;
  source: PolicySource;
  log: Logger;
  now?: () => Date;
  /** What asked for this run (poll, webhook, api, watch, cli); recorded with the attempt. */
  trigger: string;
  /** The instance's memory of what it applied (createReconcileMemory, one per process); without it
   * every run diffs against the database and compiles every scope. */
  memory?: ReconcileMemory;
  /** How new rows are bulk-inserted: 'copy' (fastest; not over PGlite's socket) or 'json' (default). */
  insertMethod?: InsertMethod;
  /** Runs the whole run one at a time across instances (oneRunAtATime; stage 'wait'). */
  oneAtATime?: RunExclusively;
}

export interface ReconcileOutcome {
  /** The reconciliation row, or null when even recording failed (database down). */
  id: number | null;
  status: ReconcileStatus;
  reason?: ReconcileReason;
  message: string;
  revision: string | null;
  counts: WriteCounts;
  /** Scopes whose document changed, appeared or disappeared. */
  changedScopes: string[];
  /** Enrolled agents whose document changed (or that gained or lost one): the agents to signal. */
  changedAgents: string[];
  errors: PolicyError[];
  durationMs: number;
  /** Milliseconds per stage (sync, state, read, load, stored, compile, lock, plan, write:<table>, record). */
  stagesMs: Record<string, number>;
  /** Scopes compiled: all of them when the applied state was not in memory, else those affected. */
  compiledScopes: number;
  /** Enrolled agents read and decided again: every one after a full compile, else those the change
   * can reach (in the affected locations, or named by a changed object). */
  decidedAgents: number;
}

type Stop = Omit<ReconciliationRecord, 'trigger' | 'startedAt' | 'finishedAt'> & { changedScopes?: string[]; changedAgents?: string[]; compiledScopes?: number; decidedAgents?: number };

const NO_COUNTS: WriteCounts = { added: 0, changed: 0, removed: 0 };
/** Errors of one rejected revision logged one per line; the rest are in the reconciliation record. */
const LOGGED_ERRORS = 50;

export async function reconcileOnce(deps: ReconcileDeps): Promise<ReconcileOutcome> {
  const startedAt = (deps.now ?? (() => new Date()))();
  const stages = createStageTimer();
  if (!deps.oneAtATime) return reconcileRun(deps, startedAt, stages);
  return deps.oneAtATime(() => {
    stages.mark('wait');
    return reconcileRun(deps, startedAt, stages);
  });
}

async function reconcileRun(deps: ReconcileDeps, startedAt: Date, stages: StageTimer): Promise<ReconcileOutcome> {
  const { sql, source, log } = deps;
  const memory = deps.memory ?? createReconcileMemory();
  const now = deps.now ?? (() => new Date());
  const finish = (stop: Stop) => finishAttempt(deps, startedAt, now(), stop, stages.ms);

  let revision: string;
  try {
    revision = await source.sync();
  } catch (error) {
    return finish(failure(null, 'FetchFailed', `cannot sync ${source.description}`, error, log));
  }
  stages.mark('sync');

  let snapshot: PolicySnapshot;
  let state: PolicyState;
  try {
    state = await readPolicyState(sql);
    if (revision === state.appliedRevision && revision === state.lastAttemptedRevision) {
      return finish({ revision, status: 'no-op', message: `revision ${revision} is already applied`, counts: NO_COUNTS, errors: [] });
    }
    await markAttemptStarted(sql, revision, startedAt);
  } catch (error) {
    return finish(failure(revision, 'ApplyFailed', 'cannot read the reconcile state', error, log));
  }
  stages.mark('state');
  try {
    snapshot = await source.read(revision);
  } catch (error) {
    return finish(failure(revision, 'FetchFailed', `cannot read revision ${revision}`, error, log));
  }
  const commit = snapshot.commit;
  stages.mark('read');

  const loaded = loadPolicy(snapshot.files, undefined, memory.parseCache);
  stages.mark('load');
  if (!loaded.ok) {
    const message = `revision ${revision} is invalid (${loaded.errors.length} error(s)); the applied revision stays in force`;
    return finish({ revision, commit, status: 'rejected', reason: 'ValidationFailed', message, counts: NO_COUNTS, errors: loaded.errors });
  }
  const policy = loaded.policy;
  const guard = deletionGuard(policy);

  // Another instance may have applied since this one last did: its memory is then stale and the
  // diff runs against the database instead.
  let stored: StoredInventory;
  let compiler: Compiler;
  let agents: EnrolledAgent[];
  let result: DesiredResult;
  let plan: WritePlan | undefined;
  let agentsChanged: string[] = [];
  let orphaned: OrphanedAgents[] = [];
  const factPaths = referencedFactPaths(policy);
  try {
    const base = await currentApplied(memory, sql, state) ?? await adoptedOrNone(state.appliedRevision);
    stored = base?.stored ?? await readStoredInventory(sql);
    stages.mark('stored');
    const compilePlan = planCompile(policy, stored, base);
    agents = await readEnrolledAgents(sql, factPaths, compilePlan.agents);
    stages.mark('agents');
    compiler = createCompiler(policy);
    result = desiredRows(policy, compiler, stored, agents, compilePlan);
    stages.mark('compile');
  } catch (error) {
    return finish(failure(revision, 'ApplyFailed', `cannot compile revision ${revision}`, error, log, commit));
  }

  let documentsVersion = stored.documentsVersion;
  try {
    const outcome = await sql.begin(async (tx) => {
      // Serialises applies across instances; checking the applied revision under the lock means two
      // instances that both compiled the same revision cannot both apply it.
      await tx`select pg_advisory_xact_lock(${RECONCILE_LOCK_KEY})`;
      const [locked] = await tx<Array<{ applied_revision: string | null; documents_version: string }>>`select applied_revision, documents_version from policy_state`;
      stages.mark('lock');
      if (locked.applied_revision === revision) {
        return finishIn(tx, { revision, commit, status: 'no-op', message: `revision ${revision} was applied by another reconcile`, counts: NO_COUNTS, errors: [] });
      }
      if (locked.applied_revision !== stored.revision || Number(locked.documents_version) !== stored.documentsVersion) {
        // Another instance wrote between our read and the lock (a revision, or agents' own scopes):
        // diff against what it wrote, with the agents as they are now.
        stored = await readStoredInventory(tx);
        agents = await readEnrolledAgents(tx, factPaths);
        result = desiredRows(policy, compiler, stored, agents);
        stages.mark('stored');
      }
      plan = planWrites(stored, result.desired);
      stages.mark('plan');
      const budget = checkDeletionBudget(plan.counts.removed, stored.objects.size, guard);
      if (!budget.ok) {
        return finishIn(tx, { revision, commit, status: 'rejected', reason: 'DeletionBudgetExceeded', message: budget.message, counts: plan.counts, errors: [] });
      }
      orphaned = await agentsInRemovedPlaces(tx, plan.objects.delete);
      const whose = { scopes: plan.changedScopes };
      const before = await readAgentDocuments(tx, whose);
      stages.merge('write', await applyWrites(tx, plan, revision, deps.insertMethod ?? 'json'));
      documentsVersion = await bumpDocumentsVersion(tx);
      agentsChanged = changedAgents(before.documents, (await readAgentDocuments(tx, whose)).documents);
      stages.mark('agents-diff');
      // In the apply's transaction: the audit line commits with the rows it describes, and the
      // agents are woken without waiting for a commit of its own after this one (bench:fleet at
      // 30,000: 240–400 ms from an apply's end to the wake-up with PostgreSQL's WAL flush busy).
      await auditApplied(tx, deps.trigger, { revision, counts: plan.counts, changedScopes: plan.changedScopes }, policy);
      return finishIn(tx, {
        revision, commit, status: 'applied', message: appliedMessage(revision, plan), counts: plan.counts, errors: [],
        changedScopes: plan.changedScopes, changedAgents: agentsChanged, compiledScopes: result.compiledScopes, decidedAgents: agents.length,
      });
    });
    // Committed: from now on this revision is the base of the next diff.
    if (outcome.status === 'applied' && plan) memory.applied = { policy, compiler, stored: storedAfter(stored, result.desired, plan, revision, documentsVersion) };
    else if (outcome.status === 'no-op') memory.applied = undefined;
    if (outcome.status === 'applied') {
      for (const { place, agents: count } of orphaned) {
        log.warn({ revision, place, agents: count }, `revision ${revision} removes ${place}, which still has ${count} enrolled agent(s): they get no desired state until they are moved or revoked`);
      }
    }
    return outcome;
  } catch (error) {
    return finish(failure(revision, 'ApplyFailed', `cannot apply revision ${revision}`, error, log, commit));
  }

  /** The applied revision taken into memory (another instance applied it), or none: a full compile. */
  async function adoptedOrNone(revision: string | null) {
    if (!revision) return undefined;
    try {
      return await adoptApplied(memory, { sql, source }, revision);
    } catch (error) {
      log.warn({ err: error, revision }, 'cannot take the applied revision into memory; every scope is compiled');
      return undefined;
    }
  }

  // Inside the apply transaction the record commits (or rolls back) with the rows it describes.
  function finishIn(tx: postgres.TransactionSql, stop: Stop): Promise<ReconcileOutcome> {
    return finishAttempt({ ...deps, sql: tx as unknown as postgres.Sql }, startedAt, now(), stop, stages.ms, { throwOnRecordError: true });
  }
}

/** Records the attempt (reconciliations row + policy_state) and turns it into the outcome. */
async function finishAttempt(deps: ReconcileDeps, startedAt: Date, finishedAt: Date, stop: Stop, stagesMs: Record<string, number>, options: { throwOnRecordError?: boolean } = {}): Promise<ReconcileOutcome> {
  const record: ReconciliationRecord = { ...stop, trigger: deps.trigger, startedAt, finishedAt };
  let id: number | null = null;
  let repeated = false;
  const recordStarted = performance.now();
  try {
    ({ id, repeated } = await recordReconciliation(deps.sql, record));
  } catch (error) {
    if (options.throwOnRecordError) throw error;
    deps.log.error({ err: error, revision: stop.revision, status: stop.status }, 'cannot record the reconciliation');
  }
  stagesMs.record = Math.round((performance.now() - recordStarted) * 10) / 10;
  const outcome: ReconcileOutcome = {
    id,
    status: stop.status,
    reason: stop.reason,
    message: stop.message,
    revision: stop.revision,
    counts: stop.counts,
    changedScopes: stop.changedScopes ?? [],
    changedAgents: stop.changedAgents ?? [],
    errors: stop.errors,
    durationMs: finishedAt.getTime() - startedAt.getTime(),
    stagesMs,
    compiledScopes: stop.compiledScopes ?? 0,
    decidedAgents: stop.decidedAgents ?? 0,
  };
  const level = stop.status === 'applied' || stop.status === 'no-op' ? 'info' : 'warn';
  // Where the time went, with what was compiled and decided, so a slow reconcile explains itself.
  deps.log[level]({
    revision: stop.revision, status: stop.status, reason: stop.reason, counts: stop.counts, durationMs: outcome.durationMs, trigger: deps.trigger,
    stagesMs, compiledScopes: outcome.compiledScopes, decidedAgents: outcome.decidedAgents,
  }, `reconcile ${stop.status}: ${stop.message}`);
  // One line per error, as file:line:col, so the log alone tells the admin what to fix; a repeat of the
  // same rejection (a head left on the branch, every poll) was already explained.
  for (const error of repeated ? [] : stop.errors.slice(0, LOGGED_ERRORS)) {
    deps.log.warn({ revision: stop.revision, code: error.code, file: error.file, line: error.line, col: error.col }, formatError(error));
  }
  if (!repeated && stop.errors.length > LOGGED_ERRORS) deps.log.warn({ revision: stop.revision }, `and ${stop.errors.length - LOGGED_ERRORS} more error(s): GET /api/v1/revision lists them all`);
  return outcome;
}

function failure(revision: string | null, reason: ReconcileReason, what: string, error: unknown, log: Logger, commit?: PolicySnapshot['commit']): Stop {
  reportFileLimit(log, error, what);
  log.warn({ err: error, revision }, what);
  const message = `${what}: ${(error as Error)?.message ?? String(error)}`;
  return { revision, commit, status: 'failed', reason, message, counts: NO_COUNTS, errors: [] };
}

function appliedMessage(revision: string, plan: WritePlan): string {
  const { added, changed, removed } = plan.counts;
  return `applied revision ${revision}: ${added} added, ${changed} changed, ${removed} removed; ${plan.changedScopes.length} scope(s) changed`;
}

function auditApplied(tx: postgres.TransactionSql, trigger: string, applied: { revision: string; counts: WriteCounts; changedScopes: string[] }, policy: Policy): Promise<void> {
  return audit(tx, {
    actor: `reconciler:${trigger}`,
    action: 'policy.apply',
    target: applied.revision,
    outcome: 'success',
    details: { counts: applied.counts, changedScopes: applied.changedScopes.length, locations: policy.locations.size },
  });
}

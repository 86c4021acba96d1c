// One iteration: desired state (new, 304, or the cached copy while offline) → facts → converge →
// the report into the outbox. Sending is not part of it: the report is safe on disk before this
// returns, and the caller delivers it when the server can take it.
import type { DesiredState } from '@pswm/schemas';
import { fetchDesiredState, loadCachedDesiredState, type CachedDesiredState } from '../api/desired-state.ts';
import { ServerError } from '../api/http.ts';
import { isRevoked, type AgentSession } from '../api/session.ts';
import { converge, type ConvergeResult } from '../converge/converge.ts';
import type { DriftItem } from '../converge/drift.ts';
import { collectFacts } from '../facts/collect-facts.ts';
import type { DataPaths } from '../paths.ts';
import type { Outbox } from '../report/outbox.ts';
import { toWireReport, type WireDriftItem, type WireReport } from '../report/wire.ts';
import { criticalLogItem, markCriticalEventsSent, unsentCriticalEvents } from '../report/critical-events.ts';
import { droppedValuesItem, sanitizeReport } from '../report/sanitize-report.ts';
import { DEFAULT_REPORT_LIMIT_BYTES, fitReport } from '../report/fit-report.ts';
import { inventoryDigest, loadInventorySent, mustSendInventory, saveInventorySent, type InventorySent } from '../report/inventory-sent.ts';
import { loadLastIteration, saveLastIteration, type LastIteration } from './last-iteration.ts';
import type { Logger } from '../logs/logger.ts';

export interface IterationContext {
  paths: DataPaths;
  /** The machine owner's fact scripts (paths.ts externalFactsDir). */
  externalFactsDir?: string;
  desiredStateFile: string;
  session: AgentSession;
  outbox: Outbox;
  log: Logger;
  /** Settings before any desired state was received. */
  defaultSettings: () => Promise<DesiredState['settings']>;
  now?: () => Date;
  env?: Record<string, string>;
  /** Whose reports these are (the server's address and the agent's id): an inventory already sent
   * by another identity is sent again. */
  identity?: string;
  /** Called once the report is on disk, before anyone tries to send it. */
  afterOutboxWrite?: (report: WireReport) => Promise<void>;
}

export interface IterationOutcome {
  last: LastIteration;
  settings: DesiredState['settings'];
  items: Array<DriftItem | WireDriftItem>;
  report: WireReport;
  /** When a schedule script is next due (converge/scripts/schedule-wake.ts). */
  nextScheduledRun?: Date;
}

export class AgentRevokedError extends Error {}

type InventoryDecision = { send: true; record: InventorySent } | { send: false };

/** Whether this iteration's inventory goes into its report (report/inventory-sent.ts). */
async function inventoryToSend(ctx: IterationContext, converged: ConvergeResult | undefined, now: Date): Promise<InventoryDecision> {
  if (!converged?.chocoPackages) return { send: false };
  const identity = ctx.identity ?? ctx.session.server;
  const digest = inventoryDigest(converged.chocoPackages);
  // an unreadable record only costs one inventory sent again
  const last = await loadInventorySent(ctx.paths.state).catch(() => undefined);
  if (!mustSendInventory(digest, identity, last, now)) return { send: false };
  return { send: true, record: { identity, digest, sent_at: now.toISOString() } };
}

function withoutInventory(converged: ConvergeResult): ConvergeResult {
  const { chocoPackages: _unchanged, ...rest } = converged;
  return rest;
}

export async function runIteration(ctx: IterationContext, opts: { dryRun: boolean }): Promise<IterationOutcome> {
  const now = ctx.now ?? (() => new Date());
  const startedAt = now();
  const desired = await desiredStateOrCache(ctx, startedAt);
  const settings = desired.cached?.state.settings ?? (await ctx.defaultSettings());

  let facts: Record<string, unknown> | undefined;
  try {
    facts = await collectFacts({ dataDir: ctx.paths.root, settings, documentFacts: desired.cached?.state.external_facts, externalFactsDir: ctx.externalFactsDir });
  } catch (error) {
    ctx.log.warn('facts could not be collected', { error: (error as Error).message });
  }

  let converged: ConvergeResult | undefined;
  let failure: string | undefined;
  if (desired.cached) {
    try {
      converged = await converge({ desired: desired.cached.state, dataDir: ctx.paths.root, dryRun: opts.dryRun, now: startedAt, env: ctx.env });
    } catch (error) {
      failure = (error as Error).message;
      ctx.log.error('converge failed', { error: failure });
    }
  }
  const externalFactItems = externalFactDrift(facts);
  const inventory = await inventoryToSend(ctx, converged, startedAt);
  if (converged && !inventory.send) converged = withoutInventory(converged);
  const critical = await unsentCriticalEvents(ctx.paths.logs, ctx.paths.state);
  const built = toWireReport({
    startedAt,
    finishedAt: now(),
    dryRun: opts.dryRun,
    revision: desired.cached?.revision,
    document: desired.cached?.document,
    facts,
    converged,
    extraDrift: externalFactItems,
  });
  const sanitized = sanitizeReport(built);
  const fitted = fitReport(sanitized.report, desired.cached?.report_limit_bytes ?? DEFAULT_REPORT_LIMIT_BYTES);
  const report = fitted.report;
  const dropped = [...sanitized.dropped, ...fitted.dropped];
  if (dropped.length) ctx.log.warn('values left out of the report (not storable, or over the size limit)', { count: dropped.length, paths: dropped.slice(0, 10).map((d) => d.path) });
  report.drift = [...(report.drift ?? []), droppedValuesItem(dropped), criticalLogItem(critical)];
  await ctx.outbox.append({ id: report.id, kind: 'report', body: report });
  await markCriticalEventsSent(ctx.paths.state, critical);
  // only once it is in a report on disk, and not cut from it to fit the size limit
  if (inventory.send && report.choco_packages) await saveInventorySent(ctx.paths.state, inventory.record);
  await ctx.afterOutboxWrite?.(report);

  const items = [...(converged?.items ?? []), ...externalFactItems];
  const applied = !opts.dryRun && converged ? desired.cached?.revision : (await loadLastIteration(ctx.paths.state).catch(() => undefined))?.applied_revision;
  const last: LastIteration = {
    started_at: report.started_at,
    finished_at: report.finished_at,
    result: failure ? 'failed' : desired.cached ? 'ok' : 'no_desired_state',
    dry_run: opts.dryRun,
    ...(desired.source ? { source: desired.source } : {}),
    ...(desired.cached?.revision ? { revision: desired.cached.revision } : {}),
    ...(desired.cached ? { document: desired.cached.document } : {}),
    ...(applied ? { applied_revision: applied } : {}),
    counts: countByStatus(items),
    ...(items.some((i) => i.status === 'failed') ? { failed_items: items.filter((i) => i.status === 'failed').map((i) => ({ kind: i.kind, name: i.name, ...(i.reason ? { reason: i.reason } : {}) })) } : {}),
    report_id: report.id,
    ...(failure ? { error: failure } : {}),
  };
  await saveLastIteration(ctx.paths.state, last);
  return { last, settings, items, report, nextScheduledRun: converged?.nextScheduledRun };
}

async function desiredStateOrCache(ctx: IterationContext, now: Date): Promise<{ cached?: CachedDesiredState; source?: 'server' | 'cache' }> {
  try {
    const answer = await fetchDesiredState(ctx.session, ctx.desiredStateFile, now);
    if (answer.status === 'none') {
      ctx.log.info('the server has no desired state for this agent yet');
      return {};
    }
    ctx.log.info(answer.status === 'new' ? 'desired state received' : 'desired state unchanged', { revision: answer.cached.revision, document: answer.cached.document });
    return { cached: answer.cached, source: 'server' };
  } catch (error) {
    if (isRevoked(error)) throw new AgentRevokedError((error as Error).message, { cause: error });
    const cached = await loadCachedDesiredState(ctx.desiredStateFile);
    const why = error instanceof ServerError ? 'desired state refused by the server' : 'server unreachable';
    ctx.log.warn(cached ? `${why}: converging the cached desired state` : `${why} and no cached desired state`, {
      error: (error as Error).message,
      ...(cached ? { revision: cached.revision } : {}),
    });
    return cached ? { cached, source: 'cache' } : {};
  }
}

/** External facts that failed (not JSON, timed out) are drift the operator should see. */
function externalFactDrift(facts: Record<string, unknown> | undefined): WireDriftItem[] {
  return Object.entries(facts ?? {})
    .filter(([key, value]) => key.startsWith('external.') && typeof value === 'object' && value !== null && 'error' in value)
    .map(([key, value]) => ({ kind: 'external_fact', name: key.slice('external.'.length), status: 'failed', reason: String((value as { error: unknown }).error) }));
}

function countByStatus(items: ReadonlyArray<{ status: string }>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[item.status] = (counts[item.status] ?? 0) + 1;
  return counts;
}

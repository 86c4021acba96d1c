// The long-running side of reconcile: every trigger (start, poll, local ref watcher, webhook, API)
// goes through one coalescing scheduler into reconcileOnce. Across instances a run lock keeps whole
// runs one at a time (and the apply transaction's lock applies, whatever else runs); within an
// instance the scheduler does.
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { ServerConfig } from '../config/config.ts';
import type { Database } from '../db/database.ts';
import type { PolicySource } from '../git/source.ts';
import type { Logger } from '../logger.ts';
import { createReconcileScheduler } from '../triggers/scheduler.ts';
import { gitWebhookRoutes } from '../api/git-webhook.ts';
import { reconciliationRoutes } from '../api/reconciliations.ts';
import { revisionRoutes } from '../api/revision.ts';
import { policyRoutes } from '../api/policy.ts';
import { oneRunAtATime, reconcileOnce, type ReconcileOutcome } from './reconcile.ts';
import { adoptApplied, createReconcileMemory } from './memory.ts';
import { readPolicyState } from './status.ts';
import { reconcileMetrics } from './reconcile-metrics.ts';
import { refreshAgentScopes } from './agent-refresh.ts';
import { factKeysFor } from './enrolled-agents.ts';
import { referencedFactPaths } from '../../../schemas/src/compile/selectors.ts';
import type { Policy } from '../../../schemas/src/model.ts';
import type { DocumentStore } from '../apply/document-store.ts';

export interface Reconciler {
  /** Requests a reconcile and resolves with the outcome of a run that started after the request
   * (undefined when the reconciler stopped first). */
  trigger(reason: string): Promise<ReconcileOutcome | undefined>;
  /** Route plugin for /api/v1: reconcile trigger and history, revision, policy listings, git webhook. */
  routes(app: FastifyInstance): Promise<void>;
  /** Re-decides these agents' own scopes (newly enrolled, say) in the background; signals the ones
   * whose document changed. */
  refreshAgents(agentIds: string[] | 'all'): void;
  /** An agent reported facts under these keys: refreshed only if a selector reads one of them. */
  agentReported(agentId: string, factKeys: string[]): void;
  /** The policy this instance applied or loaded last, if any (explains settings with lines). */
  appliedPolicy(): Policy | undefined;
  stop(): Promise<void>;
}

export interface ReconcilerDeps {
  db: Database;
  source: PolicySource;
  config: Pick<ServerConfig, 'pollIntervalSeconds' | 'webhookSecret' | 'policyBranch'>;
  log: Logger;
  /** Shared with the desired-state route, so both serve from one cache. */
  documents?: DocumentStore;
  /** After an apply: tells every instance which agents' documents changed, then wakes them (announce.ts). */
  announce?: (changedAgents: string[], reason: string) => Promise<void>;
  /** Registry the reconcile metrics are registered on (the app's /metrics). */
  metrics?: Registry;
}

/** The scheduler reason of a run that only refreshes agents' own scopes (no policy fetch). */
const AGENTS_ONLY = 'agents';
/** The scheduler reason of a run that only takes the applied revision into memory (adopt below). */
const ADOPT = 'adopt';
/** An unfinished refresh of agents' own scopes is asked for again this much later. */
const UNFINISHED_REFRESH_RETRY_MS = 1_000;

export async function startReconciler(deps: ReconcilerDeps): Promise<Reconciler> {
  const { db, source, config } = deps;
  const log = deps.log.child({ component: 'reconciler' });
  let lastOutcome: ReconcileOutcome | undefined;
  // One memory per process: the scheduler runs one reconcile at a time, so nothing races on it.
  const memory = createReconcileMemory();
  const recordMetrics = deps.metrics ? reconcileMetrics(deps.metrics) : () => {};
  // Refreshes of agents' own scopes hold the run lock too: two instances refreshing at once (an
  // enrolment wave lands on both) each found the other's write under their apply lock and started
  // over, and after a few rounds gave up (2,745 of 30,000 agents left with a stale document).
  const oneAtATime = oneRunAtATime(db);
  // Agents waiting for their own scopes to be re-decided; drained after every run.
  const pendingAgents = { all: false, ids: new Set<string>() };
  const scheduler = createReconcileScheduler(async (reason) => {
    const reasons = reason.split(', ');
    if (reasons.some((one) => one !== AGENTS_ONLY && one !== ADOPT)) {
      lastOutcome = undefined;
      lastOutcome = await reconcileOnce({ sql: db.reconciler, source, log, trigger: reason, memory, insertMethod: db.embedded ? 'json' : 'copy', oneAtATime });
      recordMetrics(lastOutcome);
      if (lastOutcome.status === 'applied') await announce(lastOutcome.changedAgents, `policy revision ${lastOutcome.revision}`);
      // Another instance applied it (or a previous process did): this instance's next commit would
      // first read the stored inventory and compile the revision again (bench:fleet at 30,000: ~130 ms
      // of a 285-ms reconcile when the instances took turns). Taken in now, in a run of its own, so
      // whoever waits for this run's outcome does not wait for that too.
      if (lastOutcome.status === 'no-op' && lastOutcome.revision && memory.applied?.stored.revision !== lastOutcome.revision) void scheduler.request(ADOPT);
    } else if (reasons.includes(ADOPT)) {
      await adopt();
    }
    if (pendingAgents.all || pendingAgents.ids.size) {
      const agentIds = pendingAgents.all ? 'all' : [...pendingAgents.ids];
      pendingAgents.all = false;
      pendingAgents.ids.clear();
      const refreshed = await oneAtATime(() => refreshAgentScopes({ sql: db.reconciler, source, memory, log }, agentIds));
      if (refreshed.unfinished) {
        // Never dropped: these agents would keep a stale document until some full reconcile.
        setTimeout(() => refreshAgents(agentIds), UNFINISHED_REFRESH_RETRY_MS).unref();
      }
      if (refreshed.changedAgents.length) {
        log.info({ agents: refreshed.changedAgents.length, revision: refreshed.revision }, 'agents\' own documents changed');
        await announce(refreshed.changedAgents, `desired state changed (policy revision ${refreshed.revision})`);
      }
    }
  }, log);
  const refreshAgents = (agentIds: string[] | 'all') => {
    if (agentIds === 'all') pendingAgents.all = true;
    else for (const id of agentIds) pendingAgents.ids.add(id);
    void scheduler.request(AGENTS_ONLY);
  };

  const adopt = async () => {
    try {
      const state = await readPolicyState(db.reconciler);
      if (state.appliedRevision && memory.applied?.stored.revision !== state.appliedRevision) {
        await adoptApplied(memory, { sql: db.reconciler, source }, state.appliedRevision);
      }
    } catch (error) {
      // The next run takes it in itself, or compiles in full.
      log.warn({ err: error }, 'cannot take the applied revision into memory; the next commit compiles it');
    }
  };

  const announce = async (changedAgents: string[], reason: string) => {
    try {
      await deps.announce?.(changedAgents, reason);
    } catch (error) {
      // The maps still reload within a minute and agents poll on their interval; the apply stands.
      log.warn({ err: error, agents: changedAgents.length }, 'cannot announce the new documents or signal their agents');
    }
  };

  // The scheduler resolves a request right after the run that served it, before the next run can
  // finish, so lastOutcome is that run's outcome.
  const trigger = (reason: string) => scheduler.request(reason).then(() => lastOutcome);

  const stopWatching = source.local ? await source.watch(() => void trigger('watch')) : async () => {};
  scheduler.startPolling(config.pollIntervalSeconds);
  void trigger('start');
  // Agents enrolled or moved while no instance was running reach their own scopes here.
  refreshAgents('all');
  log.info({ source: source.description, pollIntervalSeconds: config.pollIntervalSeconds }, 'reconciler started');

  return {
    trigger,
    refreshAgents,
    agentReported(agentId, factKeys) {
      const policy = memory.applied?.policy;
      if (policy && !factKeys.some((key) => selectedFactKeys(policy).has(key))) return;
      refreshAgents([agentId]);
    },
    appliedPolicy: () => memory.applied?.policy,
    async routes(app) {
      await app.register(reconciliationRoutes, { sql: db.sql, reconciler: { trigger } });
      await app.register(revisionRoutes, { sql: db.sql });
      await app.register(policyRoutes, { sql: db.sql, documents: deps.documents });
      await app.register(gitWebhookRoutes, {
        secret: config.webhookSecret,
        branch: config.policyBranch,
        onPush: (info) => void trigger(`webhook:${info.provider}`),
      });
    },
    async stop() {
      await stopWatching();
      await scheduler.stop();
    },
  };
}

const factKeysByPolicy = new WeakMap<Policy, Set<string>>();

/** The fact keys a selector of `policy` can read (indexed once per policy: reports arrive often). */
function selectedFactKeys(policy: Policy): Set<string> {
  let keys = factKeysByPolicy.get(policy);
  if (!keys) factKeysByPolicy.set(policy, (keys = new Set(factKeysFor(referencedFactPaths(policy)))));
  return keys;
}

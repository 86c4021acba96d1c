// The long-running side of reconcile: every trigger (start, poll, local ref watcher, webhook, API)
// goes through one coalescing scheduler into reconcileOnce. Across instances the apply transaction's
// advisory lock keeps applies one at a time; within an instance the scheduler does.
import type { FastifyInstance } from 'fastify';
import type { ServerConfig } from '../config/config.ts';
import type { Database } from '../db/database.ts';
import type { PolicySource } from '../git/source.ts';
import type { Logger } from '../logger.ts';
import { createReconcileScheduler } from '../triggers/scheduler.ts';
import { gitWebhookRoutes } from '../api/git-webhook.ts';
import { reconciliationRoutes } from '../api/reconciliations.ts';
import { revisionRoutes } from '../api/revision.ts';
import { policyRoutes } from '../api/policy.ts';
import { reconcileOnce, type ReconcileOutcome } from './reconcile.ts';
import { createReconcileMemory } from './memory.ts';
import type { DocumentMap } from './document-map.ts';
import type { DocumentStore } from '../apply/document-store.ts';

export interface Reconciler {
  /** Requests a reconcile and resolves with the outcome of a run that started after the request
   * (undefined when the reconciler stopped first). */
  trigger(reason: string): Promise<ReconcileOutcome | undefined>;
  /** Route plugin for /api/v1: reconcile trigger and history, revision, policy listings, git webhook. */
  routes(app: FastifyInstance): Promise<void>;
  stop(): Promise<void>;
}

export interface ReconcilerDeps {
  db: Database;
  source: PolicySource;
  config: Pick<ServerConfig, 'pollIntervalSeconds' | 'webhookSecret' | 'policyBranch'>;
  log: Logger;
  /** Told when the applied documents changed, so every instance reloads its agent → document map. */
  documentMap?: Pick<DocumentMap, 'changed'>;
  /** Shared with the desired-state route, so both serve from one cache. */
  documents?: DocumentStore;
}

export async function startReconciler(deps: ReconcilerDeps): Promise<Reconciler> {
  const { db, source, config } = deps;
  const log = deps.log.child({ component: 'reconciler' });
  let lastOutcome: ReconcileOutcome | undefined;
  // One memory per process: the scheduler runs one reconcile at a time, so nothing races on it.
  const memory = createReconcileMemory();
  const scheduler = createReconcileScheduler(async (reason) => {
    lastOutcome = undefined;
    lastOutcome = await reconcileOnce({ sql: db.sql, source, log, trigger: reason, memory, insertMethod: db.embedded ? 'json' : 'copy' });
    if (lastOutcome.status === 'applied') await announceDocuments();
  }, log);

  const announceDocuments = async () => {
    try {
      await deps.documentMap?.changed();
    } catch (error) {
      // The maps still reload within a minute; the applied revision stands.
      log.warn({ err: error }, 'cannot announce the new documents to the other instances');
    }
  };

  // The scheduler resolves a request right after the run that served it, before the next run can
  // finish, so lastOutcome is that run's outcome.
  const trigger = (reason: string) => scheduler.request(reason).then(() => lastOutcome);

  const stopWatching = source.local ? await source.watch(() => void trigger('watch')) : async () => {};
  scheduler.startPolling(config.pollIntervalSeconds);
  void trigger('start');
  log.info({ source: source.description, pollIntervalSeconds: config.pollIntervalSeconds }, 'reconciler started');

  return {
    trigger,
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

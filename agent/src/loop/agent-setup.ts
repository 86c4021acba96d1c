// What both `pswm agent` and `pswm service` need before the first iteration: the enrolled identity,
// a session with the server, the outbox, and delivery with the reporting settings.
import path from 'node:path';
import type { DesiredState } from '@pswm/schemas';
import { desiredStateCacheFile, loadCachedDesiredState } from '../api/desired-state.ts';
import { ServerError } from '../api/http.ts';
import { postReport } from '../api/reports.ts';
import { createAgentSession, type AgentSession } from '../api/session.ts';
import { loadAgentConfig, type AgentConfig } from '../identity/config.ts';
import { loadAgentKeys } from '../identity/key-pair.ts';
import { dataPaths, externalFactsDir, type DataPaths } from '../paths.ts';
import { deliverOutbox, type DeliverOptions, type DeliveryResult } from '../report/deliver.ts';
import { openOutbox, type Outbox } from '../report/outbox.ts';
import { createServerBackoff, type BackoffPolicy } from '../api/server-backoff.ts';
import type { WireReport } from '../report/wire.ts';
import type { IterationContext } from './iteration.ts';
import type { Logger } from '../logs/logger.ts';

export class NotEnrolledError extends Error {}

export interface AgentSetup {
  config: AgentConfig;
  paths: DataPaths;
  session: AgentSession;
  outbox: Outbox;
  iteration: IterationContext;
  /** One pass over the outbox (see DeliverOptions). */
  deliver(pass: Pick<DeliverOptions, 'attempts' | 'waitTurn' | 'shouldStop'>): Promise<DeliveryResult>;
}

export async function setUpAgent(dataDir: string, log: Logger, hooks: Pick<IterationContext, 'afterOutboxWrite' | 'externalFactsDir'> = {}): Promise<AgentSetup> {
  const paths = dataPaths(dataDir);
  const config = await loadAgentConfig(paths.config);
  if (!config) throw new NotEnrolledError(`this agent is not enrolled (no ${paths.config}); run "pswm enroll --server URL --token T" first`);
  const keys = await loadAgentKeys(paths.privateKey);
  const backoff = createServerBackoff({
    policy: backoffFromSettings(await initialSettings(paths)),
    onBackoff: (delayMs, failures) => log.warn('the server is not answering; backing off', { failures, next_attempt_in_s: Math.round(delayMs / 1000) }),
  });
  const session = createAgentSession({ server: config.server, agentId: config.agent_id, keys, backoff, reloadKeys: () => loadAgentKeys(paths.privateKey) });
  const outbox = await openOutbox(paths.outbox);
  return {
    config,
    paths,
    session,
    outbox,
    iteration: { paths, desiredStateFile: desiredStateCacheFile(paths.cache), session, outbox, log, defaultSettings: loadDefaultSettings, identity: `${config.server} ${config.agent_id}`, ...hooks, externalFactsDir: externalFactsDir(paths, hooks.externalFactsDir ?? config.external_facts_dir) },
    async deliver(pass) {
      const result = await deliverOutbox({
        ...pass,
        outbox,
        send: (record) => postReport(session, record.body as WireReport),
        rejectedDir: path.join(dataDir, 'outbox-rejected'),
        log,
        isAgentProblem: (error) => error instanceof ServerError && (error.status === 401 || error.status === 403),
      });
      if (result.sent || result.rejected) log.info('reports delivered', { sent: result.sent, rejected: result.rejected, pending: result.remaining });
      if (result.error) log.warn('reports kept in the outbox for later', { pending: result.remaining, error: (result.error as Error).message });
      return result;
    },
  };
}

/** The settings in force before the first iteration: the cached document's, else the defaults. */
export async function initialSettings(paths: DataPaths): Promise<DesiredState['settings']> {
  return (await loadCachedDesiredState(desiredStateCacheFile(paths.cache)).catch(() => undefined))?.state.settings ?? loadDefaultSettings();
}

/** The schema's defaults, loaded only when no desired state was ever received. Not through the
 * package index: that loads ajv, yaml and isomorphic-git (~15 MB) into an agent that needs none. */
async function loadDefaultSettings(): Promise<DesiredState['settings']> {
  const { settingsDefaults } = await import('@pswm/schemas/json-schema');
  return settingsDefaults();
}

export function backoffFromSettings(settings: DesiredState['settings']): BackoffPolicy {
  return { baseMs: settings.reporting.retry_base_seconds * 1000, maxMs: settings.reporting.retry_max_seconds * 1000 };
}

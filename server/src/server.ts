// `pswm-server start`: the composition of the parts, top to bottom. Each step is one call.
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createAgentAuthority } from './agents/access-token.ts';
import { openServerKeys } from './agents/secret-key.ts';
import { registerAgentApi } from './api/agent-api.ts';
import { API_PREFIX, buildApp } from './api/app.ts';
import { auditRoutes } from './api/audit.ts';
import { signalRoutes } from './api/signal.ts';
import { desiredStateRoutes } from './api/desired-state.ts';
import { createDocumentStore } from './apply/document-store.ts';
import { createDocumentMap } from './reconcile/document-map.ts';
import { issueInitialAdminToken } from './auth/tokens.ts';
import type { ServerConfig } from './config/config.ts';
import { openDatabase } from './db/database.ts';
import type { Database } from './db/database.ts';
import { migrate } from './db/migrate.ts';
import { registerConsole } from './web-console/register.ts';
import { createBus } from './hub/bus.ts';
import { readAgentSocketCapacity } from './hub/capacity.ts';
import { createHub, registerWebSockets } from './hub/hub.ts';
import { createSocketClaims } from './hub/socket-claims.ts';
import { consoleOptionsFrom, createConsoleService } from './console/console-service.ts';
import type { Logger } from './logger.ts';
import { openPolicySource } from './git/source.ts';
import { fleetMetrics } from './api/fleet-metrics.ts';
import { announceChanges } from './reconcile/announce.ts';
import { startReconciler } from './reconcile/reconciler.ts';
import { createStageTimer } from './reconcile/stage-timer.ts';
import { startRetention } from './retention/retention-loop.ts';
import { watchFileLimit } from './file-limit.ts';

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}


export async function startServer(config: ServerConfig, log: Logger): Promise<RunningServer> {
  const stage = startupProgress(log);
  stage('opening the database');
  const db = await openDatabase(config, log);
  try {
    stage('applying database migrations');
    await migrate(db.sql, log);
    await ensureInitialAdminToken(db, config.dataDir, log);
    const keys = await openServerKeys(config, db.sql, log);
    stage('starting the API, the agent hub and the reconciler');
    const app = await buildApp({ db, config, log });
    const bus = await createBus(db, log);
    const authority = await createAgentAuthority(db.sql, bus, keys.accessToken);
    const { capacity: socketCapacity, openFileLimit } = await readAgentSocketCapacity(config.maxAgentSockets);
    log.info({ openFileLimit, socketCapacity }, 'agent socket capacity');
    const claims = createSocketClaims(db.sql, {
      takeovers: config.duplicateIdentityTakeovers, windowMs: config.duplicateIdentityWindowSeconds * 1000, quietMs: config.duplicateIdentityQuietSeconds * 1000,
    });
    const hub = createHub({ bus, authority, log, claims, options: { socketCapacity, wakeRate: config.wakeRate } });
    const documentMap = await createDocumentMap({ sql: db.sql, bus, log });
    const documents = createDocumentStore(db.sql);
    const source = await openPolicySource(config, log);
    const reconciler = await startReconciler({ db, source, config, log, documents, announce: announceChanges(bus), metrics: app.metrics });
    fleetMetrics(app.metrics, db.sql);
    const retention = startRetention(db.sql, config, log);
    await registerAgentApi(app, {
      sql: db.sql, authority, keys, onAgentFacts: reconciler.agentReported, cachedDocumentOf: (agentId) => documentMap.cached(agentId)?.document,
    });
    await registerWebSockets(app);
    await registerConsole(app, { sql: db.sql, bus, log, appliedPolicy: reconciler.appliedPolicy, secureCookies: Boolean(config.tlsCert) });
    await app.register(hub.plugin, { prefix: API_PREFIX });
    const consoles = createConsoleService({ sql: db.sql, hub, bus, log, options: consoleOptionsFrom(config), retentionDays: config.consoleRetentionDays, transcriptReaders: config.consoleTranscriptReaders });
    await app.register(consoles.routes, { prefix: API_PREFIX });
    await app.register(signalRoutes, { prefix: API_PREFIX, sql: db.control, signalAgents: hub.signalAgents });
    await app.register(auditRoutes, { prefix: API_PREFIX, sql: db.sql });
    await app.register(reconciler.routes, { prefix: API_PREFIX });
    await app.register(desiredStateRoutes, {
      prefix: API_PREFIX, documents, map: documentMap, onUnknownAgent: (agentId) => reconciler.refreshAgents([agentId]),
    });
    stage('listening');
    await app.listen({ host: config.host, port: config.port, backlog: config.listenBacklog });
    const stopFileLimitWatch = watchFileLimit(app.server, log);
    const url = listeningUrl(config, app.server.address() as AddressInfo);
    log.info(`pswm-server listening on ${url}`);
    return {
      url,
      async close() {
        // Each step's milliseconds, logged at the end: a slow shutdown shows where it waited.
        stopFileLimitWatch();
        const steps = createStageTimer();
        await reconciler.stop();
        steps.mark('reconciler');
        await retention.close();
        steps.mark('retention');
        documentMap.close();
        await consoles.close();
        steps.mark('consoles');
        await hub.close();
        steps.mark('hub');
        await app.close();
        steps.mark('http');
        authority.close();
        await bus.close();
        steps.mark('bus');
        await source.close();
        steps.mark('policy source');
        await db.close();
        steps.mark('database');
        log.info({ stepsMs: steps.ms }, 'shutdown steps');
      },
    };
  } catch (error) {
    await db.close();
    throw error;
  }
}

/** Logs each start-up stage with the milliseconds since the process started, so a slow start shows where it is. */
export function startupProgress(log: Logger): (stage: string) => void {
  return (stage) => log.info({ stage, sinceStartMs: Math.round(performance.now()) }, `start-up: ${stage}`);
}

/**
 * Closes the server on SIGINT/SIGTERM; resolves once it has shut down. A graceful shutdown waits for
 * requests in flight and a running reconcile, which can take long (a client that never finishes its
 * upload) — so it has a deadline, and a second signal ends the process at once: a supervisor or CI job
 * that sends SIGTERM must never be left with a process that does not exit.
 */
export function closeOnSignal(server: RunningServer, log: Logger, deadlineSeconds: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let closing = false;
    const forceExit = (why: string) => {
      log.error(`${why}; exiting without finishing the shutdown`);
      process.exit(1);
    };
    const onSignal = (signal: NodeJS.Signals) => {
      if (closing) return forceExit(`second ${signal} during shutdown`);
      closing = true;
      log.info({ signal, deadlineSeconds }, 'shutting down (a second signal exits at once)');
      setTimeout(() => forceExit(`shutdown did not finish within ${deadlineSeconds} s`), deadlineSeconds * 1000).unref();
      server.close().then(() => {
        log.info('pswm-server stopped');
        resolve();
      }, reject);
    };
    process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  });
}

/**
 * On the first start against a database, an admin token is written to <dataDir>/initial-admin-token
 * (owner-only). The log names the file, never the token.
 */
async function ensureInitialAdminToken(db: Database, dataDir: string, log: Logger): Promise<void> {
  const path = join(dataDir, 'initial-admin-token');
  const issued = await issueInitialAdminToken(db.sql, async (token) => {
    await mkdir(dataDir, { recursive: true });
    await writeFile(path, `${token}\n`, { mode: 0o600 });
    await chmod(path, 0o600); // writeFile's mode only applies when it creates the file
  });
  if (issued) log.info({ path }, `initial admin token written to ${path}; use it to create your own tokens, then delete the file`);
}

function listeningUrl(config: ServerConfig, address: AddressInfo): string {
  const scheme = config.tlsCert ? 'https' : 'http';
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return `${scheme}://${host}:${address.port}`;
}

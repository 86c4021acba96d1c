// Opens the one PostgreSQL the server uses. DATABASE_URL → a real server (a pool). Otherwise PGlite in
// <dataDir>/pgdata, served on an owner-only Unix socket through pglite-socket, so the rest of the code
// talks to both through the same postgres.js client and SQL.
import { access, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import postgres from 'postgres';
import type { Logger } from '../logger.ts';
import type { ServerConfig } from '../config/config.ts';
import { lockDataDirectory } from './embedded-lock.ts';
import { embeddedEndpoint } from './embedded-socket.ts';
import { copyTemplate, templatePath } from './embedded-template.ts';

export interface Database {
  sql: postgres.Sql;
  /**
   * A small client of its own for the control plane: operators' token checks and the bus's messages.
   * Under a large fleet the pool (`sql`) has a queue of agents' heartbeats and reports; a fleet-wide
   * signal waited in it twice (token check, NOTIFY), ~0.7 s at 30,000 agents (bench:fleet). In
   * embedded mode this is `sql`: PGlite is one session.
   */
  control: postgres.Sql;
  /**
   * The reconciler's own client: its runs (a commit's apply, agents' own-scope refreshes) read and
   * write the policy tables one query after another, and in the pool each query waited its turn
   * behind agents' traffic: a one-location commit's single read of policy_state took 1.5 s at 30,000
   * agents. `sql` in embedded mode.
   */
  reconciler: postgres.Sql;
  embedded: boolean;
  close(): Promise<void>;
}

/** Anything that runs queries: the pool or a transaction, for functions that work inside either. */
export type Queryable = postgres.Sql | postgres.TransactionSql;

const POOL_SIZE = 10;
const CONTROL_POOL_SIZE = 2;
// A run holds one connection for its run lock and one for its apply transaction; room for two more.
const RECONCILER_POOL_SIZE = 4;

export async function openDatabase(config: Pick<ServerConfig, 'dataDir' | 'databaseUrl'>, log: Logger): Promise<Database> {
  return config.databaseUrl ? openExternal(config.databaseUrl, log) : openEmbedded(config.dataDir, log);
}

function clientOptions(log: Logger) {
  return {
    onnotice: (notice: postgres.Notice) => log.debug({ notice: notice.message }, 'postgres notice'),
    connection: { application_name: 'pswm-server' },
  };
}

// While PostgreSQL is down every query fails at once (connection refused → the API's 503), and a
// connection attempt to a host that does not answer gives up after CONNECT_TIMEOUT_SECONDS. Between
// attempts postgres.js waits `backoff` seconds; its default grows to 20 s, capped here so service
// resumes within a second of PostgreSQL accepting connections again.
const CONNECT_TIMEOUT_SECONDS = 5;
const MAX_RECONNECT_DELAY_SECONDS = 0.5;
const reconnectDelaySeconds = (retries: number) => Math.min(0.05 * 2 ** retries, MAX_RECONNECT_DELAY_SECONDS);

async function openExternal(url: string, log: Logger): Promise<Database> {
  const client = (max: number) => postgres(url, { ...clientOptions(log), max, connect_timeout: CONNECT_TIMEOUT_SECONDS, backoff: reconnectDelaySeconds });
  const sql = client(POOL_SIZE);
  const control = client(CONTROL_POOL_SIZE);
  const reconciler = client(RECONCILER_POOL_SIZE);
  const end = (timeout: number) => Promise.all([sql, control, reconciler].map((one) => one.end({ timeout })));
  try {
    await sql`select 1`;
  } catch (error) {
    await end(0);
    throw error;
  }
  const { host, port, database } = sql.options as unknown as { host: string[]; port: number[]; database: string };
  log.info({ host: host.join(','), port: port.join(','), database }, 'connected to PostgreSQL');
  return {
    sql,
    control,
    reconciler,
    embedded: false,
    close: async () => {
      await end(5);
    },
  };
}

async function openEmbedded(dataDir: string, log: Logger): Promise<Database> {
  const pgdataDir = join(dataDir, 'pgdata');
  await mkdir(pgdataDir, { recursive: true, mode: 0o700 });
  const unlock = await lockDataDirectory(`${pgdataDir}.lock`);
  const pglite = await createPglite(pgdataDir, log).catch(async (error) => {
    await unlock();
    throw error;
  });
  // PGlite is one Postgres session: the socket server takes one client and postgres.js keeps exactly
  // one connection, never recycled (a new connection would be a new client of the same session), so
  // transactions and advisory locks behave as on a real session.
  const endpoint = await embeddedEndpoint(dataDir);
  const server = new PGLiteSocketServer({ db: pglite, maxConnections: 1, ...(endpoint.path ? { path: endpoint.path } : { host: '127.0.0.1', port: 0 }) });
  const stop = async () => {
    await server.stop();
    await endpoint.remove();
    await pglite.close();
    await unlock();
  };
  await server.start();
  await endpoint.restrict();
  const address = endpoint.path ? { path: endpoint.path } : { host: '127.0.0.1', port: Number(server.getServerConn().split(':').at(-1)) };
  const sql = postgres({
    ...clientOptions(log), ...address, user: 'postgres', database: 'postgres', ssl: false,
    max: 1, max_lifetime: 0, idle_timeout: 0, connect_timeout: CONNECT_TIMEOUT_SECONDS, backoff: reconnectDelaySeconds,
  });
  try {
    await sql`select 1`;
  } catch (error) {
    await stop();
    throw new Error(`embedded PostgreSQL in ${pgdataDir} does not answer`, { cause: error });
  }
  log.info({ pgdata: pgdataDir, socket: server.getServerConn() }, 'embedded PostgreSQL (PGlite) started');
  return {
    sql,
    control: sql,
    reconciler: sql,
    embedded: true,
    async close() {
      await sql.end({ timeout: 5 });
      await stop();
    },
  };
}

/** Opens <pgdata>; a new one is copied from the prepared template when there is one (no initdb). */
async function createPglite(pgdataDir: string, log: Logger): Promise<PGlite> {
  if (await access(join(pgdataDir, 'PG_VERSION')).then(() => true, () => false)) {
    log.info({ pgdata: pgdataDir }, 'opening the embedded database');
  } else if (await copyTemplate(pgdataDir)) {
    log.info({ pgdata: pgdataDir }, 'created the embedded database from the prepared template; opening it');
  } else {
    log.info({ pgdata: pgdataDir, template: await templatePath() },
      'creating the embedded database with initdb (no prepared template: `npm install` makes one); this takes a while');
  }
  return PGlite.create(pgdataDir);
}

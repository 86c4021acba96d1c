// Opens the one PostgreSQL the server uses. DATABASE_URL → a real server (a pool). Otherwise PGlite in
// <dataDir>/pgdata, served on a private loopback port through pglite-socket, so the rest of the code
// talks to both through the same postgres.js client and SQL.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import postgres from 'postgres';
import type { Logger } from '../logger.ts';
import type { ServerConfig } from '../config/config.ts';
import { lockDataDirectory } from './embedded-lock.ts';

export interface Database {
  sql: postgres.Sql;
  embedded: boolean;
  close(): Promise<void>;
}

/** Anything that runs queries: the pool or a transaction, for functions that work inside either. */
export type Queryable = postgres.Sql | postgres.TransactionSql;

const POOL_SIZE = 10;

export async function openDatabase(config: Pick<ServerConfig, 'dataDir' | 'databaseUrl'>, log: Logger): Promise<Database> {
  return config.databaseUrl ? openExternal(config.databaseUrl, log) : openEmbedded(join(config.dataDir, 'pgdata'), log);
}

function clientOptions(log: Logger) {
  return {
    onnotice: (notice: postgres.Notice) => log.debug({ notice: notice.message }, 'postgres notice'),
    connection: { application_name: 'pswm-server' },
  };
}

async function openExternal(url: string, log: Logger): Promise<Database> {
  const sql = postgres(url, { ...clientOptions(log), max: POOL_SIZE });
  await sql`select 1`;
  const { host, port, database } = sql.options as unknown as { host: string[]; port: number[]; database: string };
  log.info({ host: host.join(','), port: port.join(','), database }, 'connected to PostgreSQL');
  return { sql, embedded: false, close: () => sql.end({ timeout: 5 }) };
}

async function openEmbedded(pgdataDir: string, log: Logger): Promise<Database> {
  await mkdir(pgdataDir, { recursive: true });
  const unlock = await lockDataDirectory(`${pgdataDir}.lock`);
  const pglite = await PGlite.create(pgdataDir).catch(async (error) => {
    await unlock();
    throw error;
  });
  // PGlite is one Postgres session: the socket server takes one client and postgres.js keeps exactly
  // one connection, so transactions and advisory locks behave as on a real session (REFERENCE.md).
  const server = new PGLiteSocketServer({ db: pglite, host: '127.0.0.1', port: 0, maxConnections: 1 });
  await server.start();
  const port = Number(server.getServerConn().split(':').at(-1));
  const sql = postgres({
    ...clientOptions(log),
    host: '127.0.0.1', port, user: 'postgres', database: 'postgres', ssl: false, max: 1,
  });
  try {
    await sql`select 1`;
  } catch (error) {
    await server.stop();
    await pglite.close();
    await unlock();
    throw new Error(`embedded PostgreSQL in ${pgdataDir} does not answer`, { cause: error });
  }
  log.info({ pgdata: pgdataDir, port }, 'embedded PostgreSQL (PGlite) started');
  return {
    sql,
    embedded: true,
    async close() {
      await sql.end({ timeout: 5 });
      await server.stop();
      await pglite.close();
      await unlock();
    },
  };
}

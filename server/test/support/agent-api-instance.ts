// One server instance in this process, as startServer composes it for agents (bus, authority, agent
// API) but without the reconciler: tests place agents by writing policy_objects rows themselves.
// Several instances on one database talk through PostgreSQL LISTEN/NOTIFY like separate processes.
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { createAgentAuthority } from '../../src/agents/access-token.ts';
import { deriveServerKeys } from '../../src/agents/server-secret.ts';
import type { ServerKeys } from '../../src/agents/server-secret.ts';
import type { AgentAuthority } from '../../src/agents/access-token.ts';
import { registerAgentApi } from '../../src/api/agent-api.ts';
import type { AgentApiOptions } from '../../src/api/agent-api.ts';
import { buildApp } from '../../src/api/app.ts';
import { loadConfig } from '../../src/config/config.ts';
import { createBus } from '../../src/hub/bus.ts';
import type { Bus } from '../../src/hub/bus.ts';
import { createLogger } from '../../src/logger.ts';
import { oneClientDatabase, type TestDatabase } from './database.ts';

export interface AgentApiInstance {
  url: string;
  bus: Bus;
  authority: AgentAuthority;
  /** The keys this instance signs with (a random secret key of its own). */
  keys: ServerKeys;
  close(): Promise<void>;
}

export async function startAgentApiInstance(
  database: Pick<TestDatabase, 'sql'>,
  t?: { after(fn: () => Promise<void>): void },
  options: Omit<AgentApiOptions, 'sql' | 'authority' | 'keys'> & { keys?: ServerKeys } = {},
  /** Server options as on the command line ('--rate-limit', '5'). */
  argv: string[] = [],
  /** Called with the app before it listens, to register more routes. */
  extend?: (app: FastifyInstance) => Promise<void>,
): Promise<AgentApiInstance> {
  const log = createLogger({ logLevel: 'silent' });
  const db = oneClientDatabase(database.sql);
  const app = await buildApp({ db, config: loadConfig(argv, {}), log });
  const bus = await createBus(db, log);
  const keys = options.keys ?? deriveServerKeys(randomBytes(32));
  const authority = await createAgentAuthority(db.sql, bus, keys.accessToken);
  await registerAgentApi(app, { sql: db.sql, authority, ...options, keys });
  await extend?.(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await app.close();
    authority.close();
    await bus.close();
  };
  t?.after(close);
  return { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, bus, authority, keys, close };
}

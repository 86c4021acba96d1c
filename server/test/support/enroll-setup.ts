// Shared setup of the enrollment tests: a fresh database with an applied policy that knows
// contoso/paris, one agent API instance, an admin token, and the agent's client.
import type { TestContext } from 'node:test';
import { createToken } from '../../src/auth/tokens.ts';
import { enrollmentClient } from './agent-identity.ts';
import { startAgentApiInstance } from './agent-api-instance.ts';
import { freshDatabase } from './database.ts';
import { runServerCommand } from './server-process.ts';

export async function enrollSetup(t: TestContext) {
  const db = await freshDatabase(t);
  await db.sql`
    insert into policy_objects (kind, id, sha256, revision, file, line, metadata, spec) values
      ('Organization', 'contoso', 'o', 'r1', 'organizations/contoso/organization.yaml', 1, '{}', '{}'),
      ('Location', 'contoso/paris', 'l', 'r1', 'organizations/contoso/paris.yaml', 1, '{}', '{"organization":"contoso"}')`;
  const server = await startAgentApiInstance(db, t);
  const { token: adminToken } = await db.sql.begin((tx) => createToken(tx, { role: 'admin', name: 'test-admin', actor: 'test' }));
  const client = enrollmentClient(server.url);
  const admin = (method: string, path: string, body?: object) => client.call(method, path, { body, headers: { authorization: `Bearer ${adminToken}` } });
  /** `pswm-server <args>` against the test database, or against the instance with `remote`. */
  const cli = (args: string[], remote = false) => remote
    ? runServerCommand([...args, '--server', server.url], { PSWM_ADMIN_TOKEN: adminToken, PSWM_LOG_LEVEL: 'warn' })
    : runServerCommand(args, { DATABASE_URL: db.url, PSWM_LOG_LEVEL: 'warn' });
  const auditOf = (action: string) => db.sql<{ actor: string; target: string; outcome: string; details: Record<string, unknown> }[]>`
    select actor, target, outcome, details from audit_log where action = ${action} order by id`;
  return { db, sql: db.sql, server, client, admin, cli, auditOf };
}

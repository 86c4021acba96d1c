// Two `pswm-server start` processes on one fresh PostgreSQL database, sharing the secret key (as
// every instance behind a load balancer must), with the template policy applied, and an admin token.
import type { TestContext } from 'node:test';
import { createToken } from '../../../server/src/auth/tokens.ts';
import { freshDatabase } from '../../../server/test/support/database.ts';
import { sharedSecretKey, startServerProcess } from '../../../server/test/support/server-process.ts';
import { appliedRevision, templateRepo, tempDir, until } from '../../../server/test/reconcile-fixtures.ts';

export async function startTwoInstances(t: TestContext, opts: { serverArgs?: string[] } = {}) {
  const db = await freshDatabase();
  const { token } = await db.sql.begin((tx) => createToken(tx, { role: 'admin', name: 'two-instances', actor: 'test' }));
  const repo = await templateRepo(t);
  const keyEnv = await sharedSecretKey(await tempDir(t));
  const servers = await Promise.all([0, 1].map(async () => startServerProcess({
    dataDir: await tempDir(t), args: ['--policy-repo', repo.dir, '--poll-interval', '3600', ...(opts.serverArgs ?? [])], env: { DATABASE_URL: db.url, ...keyEnv },
  })));
  t.after(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    await db.drop();
  });
  await until('the template to be applied', () => appliedRevision(db.sql).then((revision) => revision ?? undefined), 120_000);

  /** Creates an agent through instance `via`; resolves with its enrollment token. */
  const createAgent = async (name: string, via = servers[0]): Promise<string> => {
    const response = await fetch(new URL('/api/v1/agents', via.url), {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name, organization: 'fabrikam', location: 'lab-linux' }),
    });
    if (!response.ok) throw new Error(`POST /api/v1/agents: ${response.status} ${await response.text()}`);
    return ((await response.json()) as { token: string }).token;
  };
  return { db, token, servers, createAgent };
}

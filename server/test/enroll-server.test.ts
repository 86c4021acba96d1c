// The whole path through a real `pswm-server start` process, on real PostgreSQL and on the embedded
// database (PGlite: PostgreSQL 18, in-process bus), managed with the CLI's --server mode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { enrollmentClient, generateAgentIdentity } from './support/agent-identity.ts';
import { freshDatabase } from './support/database.ts';
import { runServerCommand, startServerProcess } from './support/server-process.ts';

async function enrolAndRevokeThroughServer(t: import('node:test').TestContext, env: Record<string, string>) {
  const dataDir = await mkdtemp(join(tmpdir(), 'pswm-enroll-'));
  let server: Awaited<ReturnType<typeof startServerProcess>> | undefined;
  t.after(async () => {
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });
  server = await startServerProcess({ dataDir, env });
  const adminToken = (await readFile(join(dataDir, 'initial-admin-token'), 'utf8')).trim();
  const url = server.url;
  const cli = (args: string[]) => runServerCommand([...args, '--server', url], { PSWM_ADMIN_TOKEN: adminToken });
  const client = enrollmentClient(url);

  const token = await cli(['agent', 'create', 'ws-paris-001', '--org', 'contoso', '--location', 'paris']);
  assert.equal(token.code, 0, token.stderr);
  const code = await cli(['otp', 'create', '--org', 'contoso', '--location', 'paris', '--uses', '1', '--expires', '1h']);
  assert.equal(code.code, 0, code.stderr);

  const agents = [
    { identity: generateAgentIdentity(), input: { method: 'token' as const, token: token.stdout.trim() } },
    { identity: generateAgentIdentity(), input: { method: 'otp' as const, code: code.stdout.trim(), name: 'kiosk-1' } },
  ];
  const accessTokens: string[] = [];
  for (const { identity, input } of agents) {
    const enrolled = await client.enroll(identity, input);
    assert.equal(enrolled.status, 201, JSON.stringify(enrolled.body));
    const issued = await client.accessToken(enrolled.body.agent_id, identity.assertion(enrolled.body.agent_id));
    assert.equal(issued.status, 200, JSON.stringify(issued.body));
    accessTokens.push(issued.body.access_token);
  }
  const exhausted = await client.enroll(generateAgentIdentity(), { method: 'otp', code: code.stdout.trim(), name: 'kiosk-2' });
  assert.equal(exhausted.body.error?.code, 'CREDENTIAL_USED');

  assert.match((await cli(['agent', 'list'])).stdout, /ws-paris-001\s+contoso\s+paris\s+active/);
  assert.equal((await cli(['agent', 'revoke', 'ws-paris-001'])).code, 0);
  assert.equal((await client.whoami(accessTokens[0])).body.error?.code, 'AGENT_REVOKED');
  assert.equal((await client.whoami(accessTokens[1])).status, 200);
}

test('a real server process on PostgreSQL: create, enrol, get tokens, revoke through the CLI', async (t) => {
  const db = await freshDatabase(t);
  await enrolAndRevokeThroughServer(t, { DATABASE_URL: db.url });
});

test('a real server process on the embedded database: the same, with the in-process bus', async (t) => {
  await enrolAndRevokeThroughServer(t, {});
});

test('agent list --server follows the read API pages to the last agent', async (t) => {
  const db = await freshDatabase(t);
  const dataDir = await mkdtemp(join(tmpdir(), 'pswm-enroll-'));
  let server: Awaited<ReturnType<typeof startServerProcess>> | undefined;
  t.after(async () => { // registered before the start, so the folder goes also when the server does not start
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });
  server = await startServerProcess({ dataDir, env: { DATABASE_URL: db.url } });
  // One more than the API's default page (500).
  await db.sql`insert into agents (name, organization, location, status)
    select 'pc-' || lpad(i::text, 4, '0'), 'contoso', 'paris', 'pending' from generate_series(1, 501) as i`;
  const adminToken = (await readFile(join(dataDir, 'initial-admin-token'), 'utf8')).trim();
  const listed = await runServerCommand(['agent', 'list', '--server', server.url], { PSWM_ADMIN_TOKEN: adminToken });
  assert.equal(listed.code, 0, listed.stderr);
  const names = listed.stdout.split('\n').filter((line) => line.startsWith('pc-'));
  assert.equal(names.length, 501);
  assert.match(names.at(-1)!, /^pc-0501\s/);
});

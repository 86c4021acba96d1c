import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { freshDatabase } from './support/database.ts';
import { runServerCommand } from './support/server-process.ts';

test('token create prints the token once, stores only its hash; list shows it; revoke ends it', async (t) => {
  const db = await freshDatabase(t);
  const env = { DATABASE_URL: db.url, PSWM_LOG_LEVEL: 'warn' };

  const created = await runServerCommand(['token', 'create', '--role', 'viewer', '--name', 'grafana'], env);
  assert.equal(created.code, 0, created.stderr);
  const token = created.stdout.trim();
  assert.match(token, /^pswm_[A-Za-z0-9_-]{43}$/);
  assert.match(created.stderr, /shown only this once/);

  const [row] = await db.sql<{ id: string; role: string; token_hash: Buffer }[]>`select id, role, token_hash from api_tokens where name = 'grafana'`;
  assert.equal(row.role, 'viewer');
  assert.deepEqual(row.token_hash, createHash('sha256').update(token).digest());
  const [{ leaks }] = await db.sql<{ leaks: number }[]>`
    select count(*)::int as leaks from api_tokens t, audit_log a
    where position(${token} in t::text) > 0 or position(${token} in a::text) > 0`;
  assert.equal(leaks, 0, 'the plain token is stored nowhere');

  const listed = await runServerCommand(['token', 'list'], env);
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, new RegExp(`${row.id}\\s+grafana\\s+viewer\\s+\\S+\\s+-\\s+-`));
  assert.doesNotMatch(listed.stdout, /pswm_/);

  const revoked = await runServerCommand(['token', 'revoke', row.id], env);
  assert.equal(revoked.code, 0, revoked.stderr);
  const [after] = await db.sql<{ revoked_at: Date | null }[]>`select revoked_at from api_tokens where id = ${row.id}`;
  assert.ok(after.revoked_at);
  assert.match((await runServerCommand(['token', 'list'], env)).stdout, new RegExp(`${row.id}.*\\d{4}-\\d\\d-\\d\\dT\\S+Z$`, 'm'));

  const actions = await db.sql<{ action: string; outcome: string }[]>`select action, outcome from audit_log where target = ${row.id} order by id`;
  assert.deepEqual(actions.map((a) => `${a.action}:${a.outcome}`), ['token.create:success', 'token.revoke:success']);
});

test('token commands refuse bad arguments with usage status 2 and report unknown ids', async (t) => {
  const db = await freshDatabase(t);
  const env = { DATABASE_URL: db.url, PSWM_LOG_LEVEL: 'warn' };
  const noRole = await runServerCommand(['token', 'create'], env);
  assert.equal(noRole.code, 2);
  assert.match(noRole.stderr, /--role must be one of admin, viewer/);
  const badFlag = await runServerCommand(['token', 'list', '--colour'], env);
  assert.equal(badFlag.code, 2);
  assert.match(badFlag.stderr, /--colour/);
  const unknown = await runServerCommand(['token', 'revoke', '6f1c1a4e-0000-4000-8000-000000000000'], env);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no token with id/);
  const [{ failures }] = await db.sql<{ failures: number }[]>`select count(*)::int as failures from audit_log where action = 'token.revoke' and outcome = 'failure'`;
  assert.equal(failures, 1);
});

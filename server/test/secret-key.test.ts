// The key that signs agent access tokens lives in a file, not in the database: a dump of the database
// alone mints nothing; every instance on one database must hold the same key; rotation replaces it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { deriveServerKeys, hmacTag } from '../src/agents/server-secret.ts';
import { enrolAgent, enrollmentClient } from './support/agent-identity.ts';
import { freshDatabase } from './support/database.ts';
import type { TestDatabase } from './support/database.ts';
import { runServerCommand, startServerProcess } from './support/server-process.ts';
import { appliedRevision, initialAdminToken, tempDir, until } from './reconcile-fixtures.ts';
import type { Hooks } from './reconcile-fixtures.ts';

const PARIS = { organization: 'contoso', location: 'paris' };

async function startServer(t: Hooks, db: TestDatabase, dataDir: string, env: Record<string, string> = {}) {
  const server = await startServerProcess({ dataDir, args: ['--poll-interval', '3600'], env: { DATABASE_URL: db.url, ...env } });
  t.after(() => server.stop());
  return server;
}

/** A token as the server makes them (docs/security.md), signed with `key`: a forger's attempt. */
function mintToken(key: Buffer, claims: object): string {
  const signed = `pswm-agent.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${signed}.${hmacTag(key, signed)}`;
}

/** Every value in a plain-text dump that could be key material: bytea literals and long base64 strings. */
function keyCandidates(dump: string): Buffer[] {
  const hex = [...dump.matchAll(/\\\\x([0-9a-f]{32,})/g)].map((m) => Buffer.from(m[1], 'hex'));
  const words = [...new Set(dump.match(/[A-Za-z0-9+/_-]{32,}={0,2}/g))];
  const decoded = words.map((word) => Buffer.from(word, 'base64'));
  const texts = words.map((word) => Buffer.from(word));
  const unique = new Map([...hex, ...decoded, ...texts].map((candidate) => [candidate.toString('hex'), candidate]));
  return [...unique.values()];
}

test('with a dump of the database alone no agent access token can be minted; instances share the key file, one with another key refuses to start; rotation replaces the key', { timeout: 300_000 }, async (t) => {
  const db = await freshDatabase(t);
  const dataDir = await tempDir(t);
  const server = await startServer(t, db, dataDir);
  await until('the demo policy to be applied', () => appliedRevision(db.sql).then((revision) => revision ?? undefined), 60_000);
  const keyFile = path.join(dataDir, 'secret-key');
  assert.equal((await stat(keyFile)).mode & 0o777, 0o600, 'the key file is owner-only');

  const agent = await enrolAgent(server.url, await initialAdminToken(dataDir), 'agent-1', PARIS);
  const client = enrollmentClient(server.url);
  assert.equal((await client.whoami(agent.accessToken)).status, 200);
  const claims = { ...JSON.parse(Buffer.from(agent.accessToken.split('.')[1], 'base64url').toString()), exp: Math.floor(Date.now() / 1000) + 600 };

  const { stdout: dump } = await promisify(execFile)('pg_dump', ['--dbname', db.url], { maxBuffer: 256 * 1024 * 1024 });
  const keyText = (await readFile(keyFile, 'utf8')).trim();
  assert.ok(!dump.includes(keyText), 'the key is not in the database');
  const candidates = keyCandidates(dump);
  assert.ok(candidates.length > 10, `the dump holds values to try (${candidates.length})`);
  // Each candidate as the HMAC key itself, or as a secret key the HMAC key is derived from.
  const forgeries = candidates.flatMap((candidate) => [candidate, deriveServerKeys(candidate).accessToken]).map((key) => mintToken(key, claims));
  const refusals = new Set<string>();
  for (let i = 0; i < forgeries.length; i += 50) {
    for (const answer of await Promise.all(forgeries.slice(i, i + 50).map((token) => client.whoami(token)))) {
      assert.equal(answer.status, 401, 'a token minted from the dump was accepted');
      refusals.add(answer.body.error.code);
    }
  }
  assert.deepEqual([...refusals], ['INVALID_TOKEN']);

  const minted = await client.whoami(mintToken(deriveServerKeys(Buffer.from(keyText, 'base64')).accessToken, claims));
  assert.equal(minted.status, 200, 'the same forgery works with the key file: the test can tell');

  // A second instance needs the same key file.
  await assert.rejects(startServer(t, db, await tempDir(t)), /this database uses the secret key with id [0-9a-f]{16}, and there is no key file at/);
  const b = await startServer(t, db, await tempDir(t), { PSWM_SECRET_KEY_FILE: keyFile });
  assert.equal((await enrollmentClient(b.url).whoami(agent.accessToken)).status, 200, 'the second instance accepts what the first signed');
  await Promise.all([server.stop(), b.stop()]);

  const oldKey = path.join(await tempDir(t), 'old-key');
  await copyFile(keyFile, oldKey);
  const rotated = await runServerCommand(['secret-key', 'rotate', '--data-dir', dataDir], { DATABASE_URL: db.url, PSWM_LOG_LEVEL: 'warn' });
  assert.equal(rotated.code, 0, rotated.stderr);
  const [, keyId] = /new secret key ([0-9a-f]{16}) written to (.+)$/m.exec(rotated.stdout) ?? [];
  assert.ok(keyId, rotated.stdout);
  const [entry] = await db.sql`select actor, target, outcome from audit_log where action = 'secret-key.rotate'`;
  assert.deepEqual({ ...entry }, { actor: entry.actor, target: keyId, outcome: 'success' });
  assert.equal((await stat(keyFile)).mode & 0o777, 0o600);

  await assert.rejects(startServer(t, db, await tempDir(t), { PSWM_SECRET_KEY_FILE: oldKey }), new RegExp(`is not the one this database uses \\(id ${keyId}\\)`));
  const again = await startServer(t, db, dataDir);
  const refused = await enrollmentClient(again.url).whoami(agent.accessToken);
  assert.equal(refused.body.error.code, 'INVALID_TOKEN', 'tokens signed with the old key are refused');
});

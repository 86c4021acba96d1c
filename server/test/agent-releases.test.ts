// Signed agent builds are stored in 1-MiB chunks and streamed to the agents chunk by chunk (migration
// 090): a build as one bytea value took 9 s to store and 5 s to read, and every download held it
// whole, twice over as hex text, in the server's memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import { createLogger } from '../src/logger.ts';
import { listMigrations, migrate } from '../src/db/migrate.ts';
import { activeReleaseKey, addRelease, generateReleaseKeys, parseReleasePrivateKey, RELEASE_CHUNK_BYTES, setReleaseKey, signRelease } from '../src/releases/releases.ts';
import { freshDatabase } from './support/database.ts';
import { reportsSetup } from './support/reports-setup.ts';

test('a build is stored in chunks and streamed back whole, with its signature, to an enrolled agent only', async (t) => {
  const { sql, server, enrolAgent } = await reportsSetup(t);
  const keys = generateReleaseKeys();
  await setReleaseKey(sql, keys.publicKeyPem);
  const key = (await activeReleaseKey(sql))!;
  const content = randomBytes(2 * RELEASE_CHUNK_BYTES + 7);
  const signed = signRelease(content, { platform: 'linux', version: '2.0.0' }, parseReleasePrivateKey(keys.privateKeyPem, 'test key'), key.publicKey);
  await sql.begin((tx) => addRelease(tx, { platform: 'linux', version: '2.0.0', content, keyId: key.id, ...signed }));
  const empty = Buffer.alloc(0);
  await sql.begin((tx) => addRelease(tx, { platform: 'linux', version: '0.0.0-empty', content: empty, keyId: key.id, ...signRelease(empty, { platform: 'linux', version: '0.0.0-empty' }, parseReleasePrivateKey(keys.privateKeyPem, 'test key'), key.publicKey) }));

  const chunks = await sql<{ seq: number; size: number }[]>`
    select seq, length(data) as size from agent_release_chunks where version = '2.0.0' order by seq`;
  assert.deepEqual(chunks.map((c) => c.size), [RELEASE_CHUNK_BYTES, RELEASE_CHUNK_BYTES, 7]);
  await assert.rejects(sql.begin((tx) => addRelease(tx, { platform: 'linux', version: '2.0.0', content, keyId: key.id, ...signed })), /exists already/);

  const agent = await enrolAgent('downloader');
  const download = (version: string, token = agent.accessToken) =>
    fetch(new URL(`/api/v1/agent/releases/linux/${version}`, server.url), { headers: { authorization: `Bearer ${token}` } });
  const answer = await download('2.0.0');
  assert.equal(answer.status, 200);
  assert.equal(answer.headers.get('content-length'), String(content.length));
  assert.equal(answer.headers.get('x-pswm-release-sha256'), signed.sha256);
  assert.equal(answer.headers.get('x-pswm-release-signature'), signed.signature);
  const body = Buffer.from(await answer.arrayBuffer());
  assert.equal(createHash('sha256').update(body).digest('hex'), signed.sha256);

  const none = await download('0.0.0-empty');
  assert.equal(none.status, 200);
  assert.equal((await none.arrayBuffer()).byteLength, 0);

  const missing = await download('9.9.9');
  assert.equal(missing.status, 404);
  assert.match((await missing.json()).error.message, /no release 9\.9\.9 for linux/);
  assert.equal((await download('2.0.0', 'not-a-token')).status, 401);

  // a client that leaves after the first bytes: the server stops reading and goes on answering
  await new Promise<void>((resolve, reject) => {
    const request = http.get(new URL('/api/v1/agent/releases/linux/2.0.0', server.url), { headers: { authorization: `Bearer ${agent.accessToken}` } }, (response) => {
      response.once('data', () => request.destroy());
      response.once('close', resolve);
    });
    request.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? resolve() : reject(error)));
  });
  const after = await download('2.0.0');
  assert.equal(after.status, 200);
  assert.equal((await after.arrayBuffer()).byteLength, content.length);
});

test('migration 090 moves a build stored whole into chunks, byte for byte', async (t) => {
  const db = await freshDatabase(t, { migrate: false });
  const before = (await listMigrations()).filter((file) => file < '090');
  await db.sql.begin(async (tx) => {
    await tx`create table schema_migrations (version text primary key, applied_at timestamptz not null default now())`;
    for (const file of before) {
      await tx.unsafe(await readFile(new URL(`../src/db/migrations/${file}`, import.meta.url), 'utf8'));
      await tx`insert into schema_migrations (version) values (${file})`;
    }
  });
  const builds = { '1.0.0': randomBytes(RELEASE_CHUNK_BYTES + 1), '1.0.1': randomBytes(RELEASE_CHUNK_BYTES), '1.0.2': Buffer.alloc(0) };
  const [{ id }] = await db.sql<{ id: string }[]>`insert into release_keys (public_key) values ('pem') returning id`;
  for (const [version, content] of Object.entries(builds)) {
    await db.sql`
      insert into agent_releases (platform, version, sha256, signature, release_key_id, size_bytes, content)
      values ('windows', ${version}, ${'a'.repeat(64)}, 'sig', ${id}, ${content.length}, ${content})`;
  }

  assert.deepEqual((await migrate(db.sql, createLogger({ logLevel: 'silent' }))).applied.filter((file) => file >= '090').at(0), '090_agent_release_chunks.sql');
  for (const [version, content] of Object.entries(builds)) {
    const rows = await db.sql<{ data: Buffer }[]>`select data from agent_release_chunks where platform = 'windows' and version = ${version} order by seq`;
    assert.equal(rows.length, Math.max(1, Math.ceil(content.length / RELEASE_CHUNK_BYTES)), version);
    assert.ok(Buffer.concat(rows.map((r) => r.data)).equals(content), `${version}: the same bytes`);
  }
  const [{ exists }] = await db.sql<{ exists: boolean }[]>`
    select exists (select 1 from information_schema.columns where table_name = 'agent_releases' and column_name = 'content') as exists`;
  assert.equal(exists, false, 'the whole-build column is gone');
});

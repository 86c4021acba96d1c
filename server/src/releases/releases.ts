// The release store: the active release key (public half only) and signed agent builds.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { releaseMessage, verifyReleaseSignature, type ReleaseIdentity } from '@pswm/schemas/release-signature';
import type { Queryable } from '../db/database.ts';

export const RELEASE_PLATFORMS = ['linux', 'windows'] as const;
export type ReleasePlatform = (typeof RELEASE_PLATFORMS)[number];
export const RELEASE_VERSION_PATTERN = /^[0-9A-Za-z][0-9A-Za-z.+-]{0,63}$/;

export interface ReleaseRecord extends ReleaseIdentity {
  signature: string;
  sizeBytes: number;
  createdAt: string;
}

export class ReleaseError extends Error {}

export function generateReleaseKeys(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

export function parseReleasePrivateKey(pem: string, source: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (error) {
    throw new ReleaseError(`${source} is not a readable private key (PEM): ${(error as Error).message}`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new ReleaseError(`${source} is a ${key.asymmetricKeyType} key; release keys are Ed25519`);
  return key;
}

/** sha256 and the Ed25519 signature of a build, checked against the public key before returning. */
export function signRelease(content: Buffer, identity: Omit<ReleaseIdentity, 'sha256'>, privateKey: KeyObject, publicKeyPem: string): { sha256: string; signature: string } {
  const sha256 = createHash('sha256').update(content).digest('hex');
  const signature = sign(null, releaseMessage({ ...identity, sha256 }), privateKey).toString('base64');
  if (!verifyReleaseSignature(publicKeyPem, { ...identity, sha256 }, signature)) {
    throw new ReleaseError('the private key does not belong to the active release key (pswm-server release keygen made a newer one?)');
  }
  return { sha256, signature };
}

export async function activeReleaseKey(sql: Queryable): Promise<{ id: string; publicKey: string } | undefined> {
  const [row] = await sql<{ id: string; public_key: string }[]>`select id, public_key from release_keys where active`;
  return row ? { id: row.id, publicKey: row.public_key } : undefined;
}

/** Makes `publicKeyPem` the active release key (the previous one stays for the builds it signed). */
export async function setReleaseKey(sql: Queryable, publicKeyPem: string): Promise<void> {
  createPublicKey(publicKeyPem);
  await sql`update release_keys set active = false where active`;
  await sql`insert into release_keys (public_key) values (${publicKeyPem})`;
}

/** A build is stored and served in chunks of this size: see migration 090. */
export const RELEASE_CHUNK_BYTES = 1024 * 1024;

/** Stores a signed build. Run it in a transaction: the record and its chunks appear together. */
export async function addRelease(sql: Queryable, release: { platform: ReleasePlatform; version: string; content: Buffer; sha256: string; signature: string; keyId: string }): Promise<void> {
  const { platform, version, content } = release;
  const inserted = await sql`
    insert into agent_releases (platform, version, sha256, signature, release_key_id, size_bytes)
    values (${platform}, ${version}, ${release.sha256}, ${release.signature}, ${release.keyId}, ${content.length})
    on conflict (platform, version) do nothing
    returning 1`;
  if (inserted.length === 0) throw new ReleaseError(`release ${version} for ${platform} exists already; releases are immutable, add a new version`);
  for (let seq = 0; seq * RELEASE_CHUNK_BYTES < content.length || seq === 0; seq++) {
    const data = content.subarray(seq * RELEASE_CHUNK_BYTES, (seq + 1) * RELEASE_CHUNK_BYTES);
    await sql`insert into agent_release_chunks (platform, version, seq, data) values (${platform}, ${version}, ${seq}, ${data})`;
  }
}

export async function listReleases(sql: Queryable): Promise<ReleaseRecord[]> {
  const rows = await sql<{ platform: string; version: string; sha256: string; signature: string; size_bytes: string; created_at: Date }[]>`
    select platform, version, sha256, signature, size_bytes, created_at from agent_releases order by platform, created_at desc`;
  return rows.map((r) => ({ platform: r.platform, version: r.version, sha256: r.sha256, signature: r.signature, sizeBytes: Number(r.size_bytes), createdAt: r.created_at.toISOString() }));
}

export async function findRelease(sql: Queryable, platform: string, version: string): Promise<ReleaseRecord | undefined> {
  const [r] = await sql<{ platform: string; version: string; sha256: string; signature: string; size_bytes: string; created_at: Date }[]>`
    select platform, version, sha256, signature, size_bytes, created_at from agent_releases where platform = ${platform} and version = ${version}`;
  return r && { platform: r.platform, version: r.version, sha256: r.sha256, signature: r.signature, sizeBytes: Number(r.size_bytes), createdAt: r.created_at.toISOString() };
}

/** A stored build's bytes, one chunk per query: a download holds one chunk in memory and no
 * database connection between chunks, and one that stops early (the client gone) reads no further. */
export async function* releaseContent(sql: Queryable, release: { platform: string; version: string }): AsyncGenerator<Buffer> {
  for (let seq = 0; ; seq++) {
    const [chunk] = await sql<{ data: Buffer }[]>`
      select data from agent_release_chunks where platform = ${release.platform} and version = ${release.version} and seq = ${seq}`;
    if (!chunk) return;
    yield chunk.data;
  }
}

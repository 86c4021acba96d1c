// The HMAC keys of agent access tokens and enrollment nonces are derived from one secret key that lives
// outside the database (secret-key-file.ts), so a copy of the database alone cannot mint tokens. Every
// instance on one database must hold the same key: the database records the key's fingerprint (never
// the key) and an instance with another key refuses to start rather than issue tokens its peers refuse.
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { Queryable } from '../db/database.ts';

export interface ServerKeys {
  accessToken: Buffer;
  enrollmentNonce: Buffer;
  /** Names the secret key without revealing it (an HKDF output of its own). */
  keyId: string;
}

export class SecretKeyError extends Error {
  code = 'SECRET_KEY_MISMATCH';
}

// The labels are part of the derivation: changing one changes every key it makes.
export function deriveServerKeys(secretKey: Buffer): ServerKeys {
  const derive = (label: string, bytes = 32) => Buffer.from(hkdfSync('sha256', secretKey, Buffer.alloc(0), `pswm/${label}`, bytes));
  return {
    accessToken: derive('agent-access-token'),
    enrollmentNonce: derive('enrollment-nonce'),
    keyId: derive('key-id', 8).toString('hex'),
  };
}

/** The key id this database was set up with, if any. */
export async function recordedKeyId(sql: Queryable): Promise<string | undefined> {
  const [row] = await sql<{ key_id: string }[]>`select key_id from server_secret_key`;
  return row?.key_id;
}

/** The first instance records its key id; a later one must present the same key. */
export async function checkKeyId(sql: Queryable, keys: ServerKeys, keyPath: string): Promise<void> {
  await sql`insert into server_secret_key (key_id) values (${keys.keyId}) on conflict (singleton) do nothing`;
  const recorded = await recordedKeyId(sql);
  if (recorded !== keys.keyId) {
    throw new SecretKeyError(
      `the secret key in ${keyPath} (id ${keys.keyId}) is not the one this database uses (id ${recorded}): `
      + 'give every instance a copy of the same key file (--secret-key-file), or make this key the one in force with '
      + '"pswm-server secret-key rotate" (docs/security.md, "The server\'s secret key")',
    );
  }
}

/** Makes `keys` the ones in force (rotation). */
export async function replaceKeyId(sql: Queryable, keys: ServerKeys): Promise<void> {
  await sql`
    insert into server_secret_key (key_id) values (${keys.keyId})
    on conflict (singleton) do update set key_id = excluded.key_id, recorded_at = now()`;
}

export function hmacTag(secret: Buffer, text: string): string {
  return createHmac('sha256', secret).update(text).digest('base64url');
}

/** Constant-time comparison, so a forger learns nothing from how long a refusal took. */
export function hmacTagMatches(secret: Buffer, text: string, tag: string): boolean {
  const expected = Buffer.from(hmacTag(secret, text));
  const given = Buffer.from(tag);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

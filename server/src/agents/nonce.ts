// Enrollment nonces are stateless and single use: `<expires unix seconds>.<16 random bytes>.<hmac>`,
// HMAC'd with a server secret, so any instance can check one without storing what it handed out (an
// unauthenticated endpoint that wrote a row per call would be a free way to fill the database). The
// first signed request that presents a nonce spends it, whatever its outcome; spent nonces are kept
// in used_nonces until they expire, after which their expiry refuses them anyway.
import { randomBytes } from 'node:crypto';
import type { Queryable } from '../db/database.ts';
import { hmacTag, hmacTagMatches } from './server-secret.ts';

const NONCE_SECONDS = 120;
const NONCE = /^(\d{1,12})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;

export function issueNonce(secret: Buffer, nowMs: number): { nonce: string; expiresAt: Date } {
  const expires = Math.floor(nowMs / 1000) + NONCE_SECONDS;
  const unsigned = `${expires}.${randomBytes(16).toString('base64url')}`;
  return { nonce: `${unsigned}.${hmacTag(secret, unsigned)}`, expiresAt: new Date(expires * 1000) };
}

/** When an authentic, unexpired nonce expires; undefined for a malformed, forged or expired one. */
export function nonceExpiry(secret: Buffer, nonce: string, nowMs: number): Date | undefined {
  const match = NONCE.exec(nonce);
  if (!match || !hmacTagMatches(secret, `${match[1]}.${match[2]}`, match[3])) return undefined;
  const expiresAt = new Date(Number(match[1]) * 1000);
  return expiresAt.getTime() > nowMs ? expiresAt : undefined;
}

/** True the first time a nonce is spent, false ever after. */
export async function spendNonce(sql: Queryable, nonce: string, expiresAt: Date): Promise<boolean> {
  const rows = await sql`insert into used_nonces (nonce, expires_at) values (${nonce}, ${expiresAt}) on conflict do nothing returning nonce`;
  return rows.length === 1;
}

/** Forgets spent nonces and assertion ids whose expiry already refuses them. */
export async function purgeSpentProofs(sql: Queryable): Promise<void> {
  await sql`delete from used_nonces where expires_at < now() - interval '1 minute'`;
  await sql`delete from used_assertions where expires_at < now() - interval '1 minute'`;
}

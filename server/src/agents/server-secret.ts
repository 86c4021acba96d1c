// HMAC keys shared by every server instance on one database. The first instance to ask creates the
// key; the insert races harmlessly (on conflict do nothing) and everyone then reads the winner.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Queryable } from '../db/database.ts';

export type ServerSecretName = 'agent-access-token' | 'enrollment-nonce';

export async function loadServerSecret(sql: Queryable, name: ServerSecretName): Promise<Buffer> {
  await sql`insert into server_secrets (name, secret) values (${name}, ${randomBytes(32)}) on conflict (name) do nothing`;
  const [row] = await sql<{ secret: Buffer }[]>`select secret from server_secrets where name = ${name}`;
  return row.secret;
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

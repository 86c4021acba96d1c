// API tokens: `pswm_` + 32 random bytes (base64url), shown once and stored as a sha256 hash. The
// tokens carry 256 bits of randomness, so a fast hash is enough: there is nothing to brute-force.
import { createHash, randomBytes } from 'node:crypto';
import type postgres from 'postgres';
import { audit } from '../audit.ts';

export const ROLES = ['admin', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export const TOKEN_PREFIX = 'pswm_';

export interface Principal {
  tokenId: string;
  name: string;
  role: Role;
}

export interface TokenRecord {
  id: string;
  name: string;
  role: Role;
  createdBy: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

/** admin ⊇ viewer: an admin token may do everything a viewer token may. */
export function roleAllows(has: Role, needs: Role): boolean {
  return has === 'admin' || has === needs;
}

export function generateToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/** Creates and audits a token; takes a transaction so the token and its audit entry commit together. */
export async function createToken(tx: postgres.TransactionSql, input: { role: Role; name: string; actor: string }): Promise<{ token: string; record: TokenRecord }> {
  const token = generateToken();
  const [row] = await tx<TokenRow[]>`
    insert into api_tokens (name, role, token_hash, created_by)
    values (${input.name}, ${input.role}, ${hashToken(token)}, ${input.actor})
    returning ${tx(RECORD_COLUMNS)}`;
  await audit(tx, { actor: input.actor, action: 'token.create', target: row.id, outcome: 'success', details: { name: input.name, role: input.role } });
  return { token, record: toRecord(row) };
}

export async function listTokens(sql: postgres.Sql): Promise<TokenRecord[]> {
  const rows = await sql<TokenRow[]>`select ${sql(RECORD_COLUMNS)} from api_tokens order by created_at, id`;
  return rows.map((row) => toRecord(row));
}

/** Revokes by id and audits the attempt; undefined when there is no such token. */
export async function revokeToken(tx: postgres.TransactionSql, id: string, actor: string): Promise<TokenRecord | undefined> {
  const [row] = UUID.test(id)
    ? await tx<TokenRow[]>`
        update api_tokens set revoked_at = coalesce(revoked_at, now()) where id = ${id}
        returning ${tx(RECORD_COLUMNS)}`
    : [];
  await audit(tx, { actor, action: 'token.revoke', target: id, outcome: row ? 'success' : 'failure', details: row ? { name: row.name } : { reason: 'no such token' } });
  return row && toRecord(row);
}

/**
 * The principal of an active token, or undefined for unknown and revoked tokens. last_used_at is
 * refreshed at most once a minute so that authenticating stays a read in the common case.
 */
export async function authenticateToken(sql: postgres.Sql, token: string): Promise<Principal | undefined> {
  if (!token.startsWith(TOKEN_PREFIX)) return undefined;
  const [row] = await sql<{ id: string; name: string; role: Role }[]>`
    with found as (
      select id, name, role, last_used_at from api_tokens
      where token_hash = ${hashToken(token)} and revoked_at is null
    ), touched as (
      update api_tokens set last_used_at = now() from found
      where api_tokens.id = found.id and (found.last_used_at is null or found.last_used_at < now() - interval '1 minute')
    )
    select id, name, role from found`;
  return row && { tokenId: row.id, name: row.name, role: row.role };
}

/**
 * Issues the initial admin token exactly once per database. `store` runs inside the transaction, so
 * the token is only committed once it is safely written (and a failed write leaves nothing issued).
 */
export async function issueInitialAdminToken(sql: postgres.Sql, store: (token: string) => Promise<void>): Promise<TokenRecord | undefined> {
  return sql.begin(async (tx) => {
    const [first] = await tx`insert into server_facts (key) values ('initial-admin-token') on conflict do nothing returning key`;
    if (!first) return undefined;
    const { token, record } = await createToken(tx, { role: 'admin', name: 'initial-admin', actor: 'pswm-server' });
    await store(token);
    return record;
  });
}

const RECORD_COLUMNS = ['id', 'name', 'role', 'created_by', 'created_at', 'last_used_at', 'revoked_at'];
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface TokenRow {
  id: string; name: string; role: Role; created_by: string; created_at: Date; last_used_at: Date | null; revoked_at: Date | null;
}

function toRecord(row: TokenRow): TokenRecord {
  return {
    id: row.id, name: row.name, role: row.role, createdBy: row.created_by,
    createdAt: row.created_at, lastUsedAt: row.last_used_at, revokedAt: row.revoked_at,
  };
}

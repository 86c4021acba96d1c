// One-time-password enrollment codes: bound to an organization and location, `uses` enrollments,
// an expiry; stored as sha256. A use is taken by one conditional UPDATE (see takeCodeUse), so
// concurrent enrollments can never take more uses than the code has.
import type postgres from 'postgres';
import { audit } from '../audit.ts';
import { hashToken, UUID } from '../auth/tokens.ts';
import { apiError } from '../api/errors.ts';
import type { Queryable } from '../db/database.ts';
import { generateCredential } from './identity.ts';
import { checkPlacement } from './scope.ts';
import type { Placement } from './scope.ts';

const OTP_PREFIX = 'pswm-otp-';

export interface CodeRecord {
  id: string;
  organization: string;
  location: string;
  uses: number;
  usesRemaining: number;
  createdBy: string;
  createdAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
}

export async function createCode(
  tx: postgres.TransactionSql,
  input: Placement & { uses: number; expiresSeconds: number; actor: string },
): Promise<{ code: string; record: CodeRecord }> {
  await checkPlacement(tx, input);
  const code = generateCredential(OTP_PREFIX);
  const [row] = await tx<CodeRow[]>`
    insert into enrollment_codes (code_hash, organization, location, uses, uses_remaining, created_by, expires_at)
    values (${hashToken(code)}, ${input.organization}, ${input.location}, ${input.uses}, ${input.uses}, ${input.actor},
            now() + make_interval(secs => ${input.expiresSeconds}))
    returning ${tx(CODE_COLUMNS)}`;
  await audit(tx, {
    actor: input.actor, action: 'otp.create', target: row.id, outcome: 'success',
    details: { organization: input.organization, location: input.location, uses: input.uses, expires_at: row.expires_at },
  });
  return { code, record: toCodeRecord(row) };
}

export async function listCodes(sql: Queryable): Promise<CodeRecord[]> {
  const rows = await sql<CodeRow[]>`select ${sql(CODE_COLUMNS)} from enrollment_codes order by created_at, id`;
  return rows.map(toCodeRecord);
}

export async function revokeCode(tx: postgres.TransactionSql, id: string, actor: string): Promise<CodeRecord | undefined> {
  const [row] = UUID.test(id)
    ? await tx<CodeRow[]>`
        update enrollment_codes set revoked_at = coalesce(revoked_at, now()) where id = ${id}
        returning ${tx(CODE_COLUMNS)}`
    : [];
  await audit(tx, { actor, action: 'otp.revoke', target: id, outcome: row ? 'success' : 'failure', details: row ? {} : { reason: 'no such code' } });
  return row && toCodeRecord(row);
}

/**
 * Takes one use of a code, or throws why not. The WHERE clause is the whole check: PostgreSQL
 * re-evaluates it on the latest row version after waiting for a concurrent UPDATE's lock, so twenty
 * simultaneous enrollments against `uses: 5` get exactly five rows back. Run it in the transaction
 * that creates the agent, so a failed enrollment gives its use back.
 */
export async function takeCodeUse(tx: postgres.TransactionSql, code: string): Promise<Placement & { codeId: string }> {
  const codeHash = hashToken(code);
  const [taken] = await tx<{ id: string; organization: string; location: string }[]>`
    update enrollment_codes set uses_remaining = uses_remaining - 1
    where code_hash = ${codeHash} and uses_remaining > 0 and expires_at > now() and revoked_at is null
    returning id, organization, location`;
  if (taken) return { codeId: taken.id, organization: taken.organization, location: taken.location };
  const [row] = await tx<{ id: string; revoked: boolean; expired: boolean }[]>`
    select id, revoked_at is not null as revoked, expires_at <= now() as expired from enrollment_codes where code_hash = ${codeHash}`;
  if (!row) throw apiError('CREDENTIAL_INVALID', 'The enrollment code is unknown.');
  if (row.revoked) throw apiError('CREDENTIAL_REVOKED', 'The enrollment code has been revoked.');
  if (row.expired) throw apiError('CREDENTIAL_EXPIRED', 'The enrollment code has expired.');
  throw apiError('CREDENTIAL_USED', 'The enrollment code has no uses left.');
}

const CODE_COLUMNS = ['id', 'organization', 'location', 'uses', 'uses_remaining', 'created_by', 'created_at', 'expires_at', 'revoked_at'];

interface CodeRow {
  id: string; organization: string; location: string; uses: number; uses_remaining: number;
  created_by: string; created_at: Date; expires_at: Date; revoked_at: Date | null;
}

function toCodeRecord(row: CodeRow): CodeRecord {
  return {
    id: row.id, organization: row.organization, location: row.location, uses: row.uses, usesRemaining: row.uses_remaining,
    createdBy: row.created_by, createdAt: row.created_at, expiresAt: row.expires_at, revokedAt: row.revoked_at,
  };
}

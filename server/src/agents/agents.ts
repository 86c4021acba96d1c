// The agents table as admins see it: create an agent with a one-time enrollment token, list, show,
// revoke. Every change is audited in the same transaction as the change itself.
import type postgres from 'postgres';
import { audit } from '../audit.ts';
import { hashToken, UUID } from '../auth/tokens.ts';
import { apiError } from '../api/errors.ts';
import type { Queryable } from '../db/database.ts';
import { generateCredential } from './identity.ts';
import { checkPlacement } from './scope.ts';
import type { Placement } from './scope.ts';

const ENROLLMENT_TOKEN_PREFIX = 'pswm-enroll-';
export const DEFAULT_ENROLLMENT_TOKEN_SECONDS = 24 * 3600;

export type AgentStatus = 'pending' | 'active' | 'revoked';

export interface AgentRecord {
  id: string;
  name: string;
  organization: string;
  location: string;
  status: AgentStatus;
  hostname: string | null;
  publicKey: string | null;
  facts: Record<string, unknown>;
  createdAt: Date;
  enrolledAt: Date | null;
  revokedAt: Date | null;
  lastSeenAt: Date | null;
}

export async function createAgent(
  tx: postgres.TransactionSql,
  input: Placement & { name: string; expiresSeconds: number; actor: string },
): Promise<{ token: string; expiresAt: Date; agent: AgentRecord }> {
  await checkPlacement(tx, input);
  const [taken] = await tx`select 1 from agents where name = ${input.name}`;
  if (taken) throw apiError('CONFLICT', `An agent named "${input.name}" already exists (names are never reused).`);
  const [row] = await tx<AgentRow[]>`
    insert into agents (name, organization, location, status)
    values (${input.name}, ${input.organization}, ${input.location}, 'pending')
    returning *`;
  const token = generateCredential(ENROLLMENT_TOKEN_PREFIX);
  const [{ expires_at: expiresAt }] = await tx<{ expires_at: Date }[]>`
    insert into enrollment_tokens (agent_id, token_hash, created_by, expires_at)
    values (${row.id}, ${hashToken(token)}, ${input.actor}, now() + make_interval(secs => ${input.expiresSeconds}))
    returning expires_at`;
  await audit(tx, {
    actor: input.actor, action: 'agent.create', target: row.id, outcome: 'success',
    details: { name: input.name, organization: input.organization, location: input.location, expires_at: expiresAt },
  });
  return { token, expiresAt, agent: toAgentRecord(row) };
}

/** Creates an enrolled agent (OTP enrollment, queue approval); CONFLICT when the name is taken. */
export async function insertEnrolledAgent(
  tx: postgres.TransactionSql,
  input: Placement & { name: string; publicKey: string; hostname: string; facts: Record<string, unknown> },
): Promise<AgentRecord> {
  const [row] = await tx<AgentRow[]>`
    insert into agents (name, organization, location, public_key, status, enrolled_at, hostname, facts)
    values (${input.name}, ${input.organization}, ${input.location}, ${input.publicKey}, 'active', now(),
            ${input.hostname}, ${tx.json(input.facts as postgres.JSONValue)})
    on conflict (name) do nothing
    returning *`;
  if (!row) throw apiError('CONFLICT', `An agent named "${input.name}" already exists; enrol under another name.`);
  return toAgentRecord(row);
}

export async function listAgents(sql: Queryable): Promise<AgentRecord[]> {
  const rows = await sql<AgentRow[]>`select * from agents order by organization, location, name`;
  return rows.map(toAgentRecord);
}

/** By name, or by id when given a uuid. */
export async function findAgent(sql: Queryable, nameOrId: string): Promise<AgentRecord | undefined> {
  const [row] = UUID.test(nameOrId)
    ? await sql<AgentRow[]>`select * from agents where id = ${nameOrId} or name = ${nameOrId}`
    : await sql<AgentRow[]>`select * from agents where name = ${nameOrId}`;
  return row && toAgentRecord(row);
}

/**
 * Marks the agent revoked and audits the attempt; undefined when there is no such agent. The caller
 * then spreads the revocation (AgentAuthority.revoke, or the bus) so live tokens stop working at once.
 */
export async function revokeAgent(tx: postgres.TransactionSql, nameOrId: string, actor: string): Promise<AgentRecord | undefined> {
  const found = await findAgent(tx, nameOrId);
  const [row] = found
    ? await tx<AgentRow[]>`
        update agents set status = 'revoked', revoked_at = coalesce(revoked_at, now())
        where id = ${found.id} returning *`
    : [];
  await audit(tx, {
    actor, action: 'agent.revoke', target: row?.id ?? nameOrId, outcome: row ? 'success' : 'failure',
    details: row ? { name: row.name } : { reason: 'no such agent' },
  });
  return row && toAgentRecord(row);
}

export interface AgentRow {
  id: string; name: string; organization: string; location: string; status: AgentStatus;
  hostname: string | null; public_key: string | null; facts: Record<string, unknown>;
  created_at: Date; enrolled_at: Date | null; revoked_at: Date | null; last_seen_at: Date | null;
}

export function toAgentRecord(row: AgentRow): AgentRecord {
  return {
    id: row.id, name: row.name, organization: row.organization, location: row.location, status: row.status,
    hostname: row.hostname, publicKey: row.public_key, facts: row.facts,
    createdAt: row.created_at, enrolledAt: row.enrolled_at, revokedAt: row.revoked_at, lastSeenAt: row.last_seen_at,
  };
}

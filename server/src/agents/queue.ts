// The enrollment queue: an agent without a credential registers its name, host name, facts and public
// key and waits; an admin approves (choosing organization and location, which creates the agent) or
// rejects. The agent polls the outcome by proving it holds the registered key (api/enroll.ts).
import type postgres from 'postgres';
import { audit } from '../audit.ts';
import { UUID } from '../auth/tokens.ts';
import { apiError } from '../api/errors.ts';
import type { Queryable } from '../db/database.ts';
import { insertEnrolledAgent } from './agents.ts';
import { checkPlacement } from './scope.ts';
import type { Placement } from './scope.ts';

export type RequestStatus = 'pending' | 'approved' | 'rejected';

export interface RequestRecord {
  id: string;
  name: string;
  hostname: string;
  publicKey: string;
  facts: Record<string, unknown>;
  status: RequestStatus;
  createdAt: Date;
  decidedBy: string | null;
  decidedAt: Date | null;
  organization: string | null;
  location: string | null;
  agentId: string | null;
}

// An arbitrary constant: registrations take turns, so `queueMax` is never overshot by concurrent ones.
const QUEUE_LOCK_KEY = 7_301_955_015;

/**
 * Queues a request, or returns the one this key already has pending (an agent restarting while it
 * waits). With `queueMax` requests pending, a new one is refused (429): strangers cannot fill the
 * table, and the admin's queue stays readable.
 */
export async function registerRequest(
  tx: postgres.TransactionSql,
  input: { name: string; hostname: string; publicKey: string; facts: Record<string, unknown> },
  queueMax: number,
): Promise<RequestRecord> {
  const [taken] = await tx`select 1 from agents where name = ${input.name}`;
  if (taken) throw apiError('CONFLICT', `An agent named "${input.name}" already exists; register under another name.`);
  await tx`select pg_advisory_xact_lock(${QUEUE_LOCK_KEY})`;
  const [existing] = await tx<RequestRow[]>`select * from enrollment_requests where public_key = ${input.publicKey} and status = 'pending'`;
  if (existing) return toRequestRecord(existing);
  const [{ pending }] = await tx<[{ pending: number }]>`select count(*)::int as pending from enrollment_requests where status = 'pending'`;
  if (pending >= queueMax) {
    throw apiError('TOO_MANY_REQUESTS', `The enrollment queue is full (${pending} pending requests); retry later, or ask an admin to approve or reject requests.`);
  }
  const [inserted] = await tx<RequestRow[]>`
    insert into enrollment_requests (name, hostname, public_key, facts, status)
    values (${input.name}, ${input.hostname}, ${input.publicKey}, ${tx.json(input.facts as postgres.JSONValue)}, 'pending')
    returning *`;
  return toRequestRecord(inserted);
}

export async function listRequests(sql: Queryable, status?: RequestStatus): Promise<RequestRecord[]> {
  const rows = status
    ? await sql<RequestRow[]>`select * from enrollment_requests where status = ${status} order by created_at, id`
    : await sql<RequestRow[]>`select * from enrollment_requests order by created_at, id`;
  return rows.map(toRequestRecord);
}

export async function findRequest(sql: Queryable, id: string): Promise<RequestRecord | undefined> {
  const [row] = UUID.test(id) ? await sql<RequestRow[]>`select * from enrollment_requests where id = ${id}` : [];
  return row && toRequestRecord(row);
}

/** Approves a pending request, creating its agent; undefined when there is no such request. */
export async function approveRequest(
  tx: postgres.TransactionSql,
  id: string,
  input: Placement & { actor: string },
): Promise<RequestRecord | undefined> {
  const request = await pendingRequest(tx, id, input.actor, 'queue.approve');
  if (!request) return undefined;
  await checkPlacement(tx, input);
  const agent = await insertEnrolledAgent(tx, { ...request, organization: input.organization, location: input.location });
  const [row] = await tx<RequestRow[]>`
    update enrollment_requests
    set status = 'approved', decided_by = ${input.actor}, decided_at = now(),
        organization = ${input.organization}, location = ${input.location}, agent_id = ${agent.id}
    where id = ${id} returning *`;
  await audit(tx, {
    actor: input.actor, action: 'queue.approve', target: id, outcome: 'success',
    details: { name: agent.name, agent_id: agent.id, organization: input.organization, location: input.location },
  });
  return toRequestRecord(row);
}

export async function rejectRequest(tx: postgres.TransactionSql, id: string, actor: string): Promise<RequestRecord | undefined> {
  const request = await pendingRequest(tx, id, actor, 'queue.reject');
  if (!request) return undefined;
  const [row] = await tx<RequestRow[]>`
    update enrollment_requests set status = 'rejected', decided_by = ${actor}, decided_at = now()
    where id = ${id} returning *`;
  await audit(tx, { actor, action: 'queue.reject', target: id, outcome: 'success', details: { name: request.name } });
  return toRequestRecord(row);
}

/** The request, locked against a concurrent decision; a missing one is audited, a decided one is a CONFLICT. */
async function pendingRequest(tx: postgres.TransactionSql, id: string, actor: string, action: string): Promise<RequestRecord | undefined> {
  const [row] = UUID.test(id) ? await tx<RequestRow[]>`select * from enrollment_requests where id = ${id} for update` : [];
  if (!row) {
    await audit(tx, { actor, action, target: id, outcome: 'failure', details: { reason: 'no such request' } });
    return undefined;
  }
  if (row.status !== 'pending') throw apiError('CONFLICT', `Request ${id} was already ${row.status}.`);
  return toRequestRecord(row);
}

interface RequestRow {
  id: string; name: string; hostname: string; public_key: string; facts: Record<string, unknown>; status: RequestStatus;
  created_at: Date; decided_by: string | null; decided_at: Date | null;
  organization: string | null; location: string | null; agent_id: string | null;
}

function toRequestRecord(row: RequestRow): RequestRecord {
  return {
    id: row.id, name: row.name, hostname: row.hostname, publicKey: row.public_key, facts: row.facts, status: row.status,
    createdAt: row.created_at, decidedBy: row.decided_by, decidedAt: row.decided_at,
    organization: row.organization, location: row.location, agentId: row.agent_id,
  };
}

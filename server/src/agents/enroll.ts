// One enrollment attempt, whatever its method: check the proof of key possession (a signature over a
// fresh server nonce), spend the nonce, then let the method decide (token: bind the key to the agent
// the admin created; otp: take a use of the code and create the agent; queue: wait for an admin).
// Every attempt is audited with its outcome and reason, never with the credential.
import type { KeyObject } from 'node:crypto';
import type postgres from 'postgres';
import { audit } from '../audit.ts';
import { hashToken } from '../auth/tokens.ts';
import { apiError, isApiError } from '../api/errors.ts';
import { insertEnrolledAgent, toAgentRecord } from './agents.ts';
import type { AgentRecord, AgentRow } from './agents.ts';
import { enrollmentMessage, normalizedPem, parseAgentPublicKey, requestStatusMessage, signatureValid } from './identity.ts';
import type { EnrollMethod } from './identity.ts';
import { nonceExpiry, spendNonce } from './nonce.ts';
import { takeCodeUse } from './otp.ts';
import { findRequest, registerRequest } from './queue.ts';
import type { RequestRecord } from './queue.ts';

export interface EnrollBody {
  method: EnrollMethod;
  token?: string;
  code?: string;
  name?: string;
  hostname: string;
  public_key: string;
  facts?: Record<string, unknown>;
  nonce: string;
  signature: string;
}

export type EnrollResult =
  | { status: 'enrolled'; agent: AgentRecord }
  | { status: 'pending'; request: RequestRecord };

interface Applicant {
  name?: string;
  hostname: string;
  publicKey: string;
  facts: Record<string, unknown>;
}

export interface EnrollLimits {
  /** Pending requests the queue holds; a queue enrollment beyond is a 429. */
  queueMax: number;
}

export async function enrollAgent(
  sql: postgres.Sql, nonceSecret: Buffer, body: EnrollBody, meta: { ip: string; nowMs: number }, limits: EnrollLimits,
): Promise<EnrollResult> {
  const attempt = { method: body.method, name: body.name ?? null, hostname: body.hostname, ip: meta.ip };
  try {
    const applicant = await checkProof(sql, nonceSecret, body, meta.nowMs);
    return await sql.begin(async (tx) => {
      const result = await METHODS[body.method](tx, body, applicant, limits);
      const target = result.status === 'enrolled' ? result.agent.id : result.request.id;
      const details = result.status === 'enrolled'
        ? { ...attempt, name: result.agent.name, organization: result.agent.organization, location: result.agent.location }
        : { ...attempt, status: 'pending', request_id: result.request.id };
      await audit(tx, { actor: actorOf(body), action: 'agent.enroll', target, outcome: 'success', details });
      return result;
    });
  } catch (error) {
    if (!isApiError(error)) throw error;
    await audit(sql, {
      actor: actorOf(body), action: 'agent.enroll', target: body.name ?? body.hostname, outcome: 'failure',
      details: { ...attempt, code: error.apiCode, reason: error.message },
    });
    throw error;
  }
}

/** The signature binds nonce, method, name and key; the nonce is spent even if the attempt then fails. */
async function checkProof(sql: postgres.Sql, nonceSecret: Buffer, body: EnrollBody, nowMs: number): Promise<Applicant> {
  if (body.method === 'token' && !body.token) throw apiError('VALIDATION_FAILED', 'body/token is required with method "token".');
  if (body.method === 'otp' && !body.code) throw apiError('VALIDATION_FAILED', 'body/code is required with method "otp".');
  if (body.method !== 'token' && !body.name) throw apiError('VALIDATION_FAILED', `body/name is required with method "${body.method}".`);
  const key = parseAgentPublicKey(body.public_key);
  if (!key) throw apiError('INVALID_PUBLIC_KEY');
  const message = enrollmentMessage({ nonce: body.nonce, method: body.method, name: body.name ?? '', publicKey: body.public_key });
  await checkSignedNonce(sql, nonceSecret, { key, nonce: body.nonce, message, signature: body.signature, nowMs });
  return { name: body.name, hostname: body.hostname, publicKey: normalizedPem(key), facts: body.facts ?? {} };
}

/** Proof of possession: `signature` over `message` (which embeds `nonce`) verifies with `key`, and the nonce is fresh. */
async function checkSignedNonce(
  sql: postgres.Sql,
  nonceSecret: Buffer,
  proof: { key: KeyObject; nonce: string; message: string; signature: string; nowMs: number },
): Promise<void> {
  const expiresAt = nonceExpiry(nonceSecret, proof.nonce, proof.nowMs);
  if (!expiresAt) throw apiError('NONCE_INVALID', 'The nonce is malformed, not issued by this server, or expired; request a new one.');
  if (!signatureValid(proof.key, proof.message, proof.signature)) throw apiError('SIGNATURE_INVALID');
  if (!(await spendNonce(sql, proof.nonce, expiresAt))) throw apiError('NONCE_INVALID', 'The nonce was already used; request a new one.');
}

/**
 * A queued agent learns the decision on its request by signing a fresh nonce and the request id with
 * the key it registered, so nobody else can watch the queue or pick up its agent id. Failed proofs
 * are audited; successful polls are not (an agent polls every few seconds while it waits).
 */
export async function requestStatusFor(
  sql: postgres.Sql,
  nonceSecret: Buffer,
  input: { requestId: string; nonce: string; signature: string },
  meta: { ip: string; nowMs: number },
): Promise<RequestRecord> {
  const request = await findRequest(sql, input.requestId);
  if (!request) throw apiError('NOT_FOUND', `No enrollment request ${input.requestId}.`);
  try {
    const key = parseAgentPublicKey(request.publicKey)!;
    const message = requestStatusMessage({ nonce: input.nonce, requestId: request.id });
    await checkSignedNonce(sql, nonceSecret, { key, nonce: input.nonce, message, signature: input.signature, nowMs: meta.nowMs });
  } catch (error) {
    if (isApiError(error)) {
      await audit(sql, {
        actor: `enrollment:${request.name}`, action: 'agent.enroll.status', target: request.id, outcome: 'failure',
        details: { ip: meta.ip, code: error.apiCode, reason: error.message },
      });
    }
    throw error;
  }
  return request;
}

type Method = (tx: postgres.TransactionSql, body: EnrollBody, applicant: Applicant, limits: EnrollLimits) => Promise<EnrollResult>;

const METHODS: Record<EnrollMethod, Method> = {
  token: async (tx, body, applicant) => ({ status: 'enrolled', agent: await bindEnrollmentToken(tx, body.token!, applicant) }),
  otp: async (tx, body, applicant) => {
    const placement = await takeCodeUse(tx, body.code!);
    const agent = await insertEnrolledAgent(tx, { ...applicant, name: applicant.name!, ...placement });
    return { status: 'enrolled', agent };
  },
  queue: async (tx, _body, applicant, limits) => ({ status: 'pending', request: await registerRequest(tx, { ...applicant, name: applicant.name! }, limits.queueMax) }),
};

/** Admin-driven enrollment: the token names an agent created by `pswm-server agent create`; it gets this key. */
async function bindEnrollmentToken(tx: postgres.TransactionSql, token: string, applicant: Applicant): Promise<AgentRecord> {
  // FOR UPDATE: two agents presenting one token at once are serialized, and the second sees used_at.
  const [found] = await tx<{ agent_id: string; name: string; status: string; used: boolean; expired: boolean }[]>`
    select t.agent_id, a.name, a.status, t.used_at is not null as used, t.expires_at <= now() as expired
    from enrollment_tokens t join agents a on a.id = t.agent_id
    where t.token_hash = ${hashToken(token)}
    for update of t`;
  if (!found) throw apiError('CREDENTIAL_INVALID', 'The enrollment token is unknown.');
  if (found.status === 'revoked') throw apiError('CREDENTIAL_REVOKED', `The agent "${found.name}" has been revoked.`);
  if (found.used) throw apiError('CREDENTIAL_USED', 'The enrollment token was already used.');
  if (found.expired) throw apiError('CREDENTIAL_EXPIRED', 'The enrollment token has expired; ask an admin for a new agent.');
  if (applicant.name && applicant.name !== found.name) {
    throw apiError('BAD_REQUEST', `The enrollment token is for the agent "${found.name}", not "${applicant.name}".`);
  }
  await tx`update enrollment_tokens set used_at = now() where agent_id = ${found.agent_id}`;
  const [row] = await tx<AgentRow[]>`
    update agents
    set public_key = ${applicant.publicKey}, status = 'active', enrolled_at = now(),
        hostname = ${applicant.hostname}, facts = ${tx.json(applicant.facts as postgres.JSONValue)}
    where id = ${found.agent_id} returning *`;
  return toAgentRecord(row);
}

function actorOf(body: EnrollBody): string {
  return `enrollment:${body.name ?? body.hostname}`;
}

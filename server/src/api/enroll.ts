// The endpoints an agent uses before it has an access token: a nonce, enrollment (token, otp, queue),
// the status of a queued request, and the exchange of a signed assertion for an access token.
// Protocol and shapes: docs/security.md. Anyone can call them, so each is rate limited per client
// address; an enrollment refused before it is read (malformed, breaking the input rules) is audited too.
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import { Counter } from 'prom-client';
import type postgres from 'postgres';
import { repairText } from '@pswm/schemas/input-rules';
import type { AgentAuthority } from '../agents/access-token.ts';
import { exchangeAssertion } from '../agents/assertion.ts';
import { enrollAgent, requestStatusFor } from '../agents/enroll.ts';
import { rotateAgentKey, type KeyRotationBody } from '../agents/key-rotation.ts';
import type { EnrollBody } from '../agents/enroll.ts';
import { ENROLL_METHODS } from '../agents/identity.ts';
import { issueNonce, purgeSpentProofs } from '../agents/nonce.ts';
import { AGENT_NAME_SCHEMA } from '../agents/scope.ts';
import { audit } from '../audit.ts';
import { toErrorResponse } from './errors.ts';
import { CREDENTIAL_RATE_LIMIT } from './rate-limit.ts';
import { activeReleaseKey } from '../releases/releases.ts';

/** Enrollment carries facts; more than this is not an inventory, it is abuse. */
const ENROLL_BODY_LIMIT_BYTES = 256 * 1024;
const PURGE_INTERVAL_MS = 60_000;
/** A full queue is emptied by an admin, not by time: agents come back after this many seconds. */
const QUEUE_FULL_RETRY_SECONDS = 300;
/** Audited fields of a refused body are cut to this many characters. */
const AUDITED_FIELD_CHARS = 253;

const credential = { type: 'string', minLength: 1, maxLength: 256 } as const;

const enrollBody = {
  type: 'object',
  required: ['method', 'hostname', 'public_key', 'nonce', 'signature'],
  additionalProperties: false,
  properties: {
    method: { type: 'string', enum: [...ENROLL_METHODS] },
    token: credential,
    code: credential,
    name: AGENT_NAME_SCHEMA,
    hostname: { type: 'string', minLength: 1, maxLength: 253 },
    public_key: { type: 'string', minLength: 1, maxLength: 2048 },
    facts: { type: 'object' },
    nonce: credential,
    signature: credential,
  },
} as const;

const statusParams = { type: 'object', required: ['request_id'], properties: { request_id: { type: 'string', maxLength: 64 } } } as const;
const statusHeaders = {
  type: 'object',
  required: ['x-pswm-nonce', 'x-pswm-signature'],
  properties: { 'x-pswm-nonce': credential, 'x-pswm-signature': credential },
} as const;

const tokenBody = {
  type: 'object',
  required: ['agent_id', 'assertion'],
  additionalProperties: false,
  properties: { agent_id: { type: 'string', minLength: 1, maxLength: 64 }, assertion: { type: 'string', minLength: 1, maxLength: 4096 } },
} as const;

const keyRotationBody = {
  type: 'object',
  required: ['jti', 'iat', 'public_key', 'signature', 'new_key_signature'],
  additionalProperties: false,
  properties: {
    jti: { type: 'string', pattern: '^[A-Za-z0-9_-]{16,128}$' },
    iat: { type: 'integer' },
    public_key: { type: 'string', minLength: 1, maxLength: 2048 },
    signature: { type: 'string', minLength: 1, maxLength: 200 },
    new_key_signature: { type: 'string', minLength: 1, maxLength: 200 },
  },
} as const;

export async function enrollRoutes(app: FastifyInstance, opts: { sql: postgres.Sql; authority: AgentAuthority; nonceSecret: Buffer }): Promise<void> {
  const { sql, authority, nonceSecret } = opts;
  const purge = setInterval(() => void purgeSpentProofs(sql).catch((err) => app.log.warn({ err }, 'purging spent nonces failed')), PURGE_INTERVAL_MS).unref();
  app.addHook('onClose', async () => clearInterval(purge));

  app.post('/enroll/nonce', { config: CREDENTIAL_RATE_LIMIT }, async () => {
    const { nonce, expiresAt } = issueNonce(nonceSecret, Date.now());
    return { nonce, expires_at: expiresAt };
  });

  // Requests that reach enrollAgent are audited there; this audits the ones refused before it.
  const attempted = new WeakSet<FastifyRequest>();
  const auditRefusal = async (request: FastifyRequest, _reply: unknown, error: FastifyError) => {
    const { status, body } = toErrorResponse(error);
    if (attempted.has(request) || status === 429) return; // a rate-limited request is not an attempt
    await auditRefusedEnrollment(sql, request, body.error);
  };

  app.post<{ Body: EnrollBody }>('/enroll', {
    schema: { body: enrollBody }, bodyLimit: ENROLL_BODY_LIMIT_BYTES, config: CREDENTIAL_RATE_LIMIT, onError: auditRefusal,
  }, async (request, reply) => {
    attempted.add(request);
    const limits = { queueMax: app.config.enrollQueueMax };
    const result = await enrollAgent(sql, nonceSecret, request.body, { ip: request.ip, nowMs: Date.now() }, limits).catch((error) => {
      if (toErrorResponse(error).status === 429) reply.header('retry-after', QUEUE_FULL_RETRY_SECONDS);
      throw error;
    });
    if (result.status === 'pending') return reply.code(202).send({ request_id: result.request.id, status: 'pending' });
    const { agent } = result;
    return reply.code(201).send({ agent_id: agent.id, name: agent.name, organization: agent.organization, location: agent.location, ...(await releaseKeyField(sql)) });
  });

  app.get<{ Params: { request_id: string }; Headers: { 'x-pswm-nonce': string; 'x-pswm-signature': string } }>(
    '/enroll/requests/:request_id',
    { schema: { params: statusParams, headers: statusHeaders }, config: CREDENTIAL_RATE_LIMIT },
    async (request) => {
      const found = await requestStatusFor(sql, nonceSecret, {
        requestId: request.params.request_id, nonce: request.headers['x-pswm-nonce'], signature: request.headers['x-pswm-signature'],
      }, { ip: request.ip, nowMs: Date.now() });
      if (found.status !== 'approved') return { status: found.status };
      return { status: found.status, agent_id: found.agentId, name: found.name, organization: found.organization, location: found.location, ...(await releaseKeyField(sql)) };
    },
  );

  const tokensIssued = new Counter({ name: 'pswm_agent_tokens_issued_total', help: 'Agent access tokens issued for a signed assertion (refusals are in the audit log).', registers: [app.metrics] });
  app.post<{ Body: { agent_id: string; assertion: string } }>('/agent/token', { schema: { body: tokenBody }, config: CREDENTIAL_RATE_LIMIT }, async (request) => {
    const issued = await exchangeAssertion(sql, authority, { agentId: request.body.agent_id, assertion: request.body.assertion }, { ip: request.ip, nowMs: Date.now() });
    tokensIssued.inc();
    return { access_token: issued.accessToken, expires_at: issued.expiresAt };
  });

  app.get('/agent/whoami', { preHandler: app.requireAgent }, async (request) => request.agent);

  app.post<{ Body: KeyRotationBody }>('/agent/key', { preHandler: app.requireAgent, schema: { body: keyRotationBody } }, async (request) => {
    const { rotatedAt } = await rotateAgentKey(sql, request.agent!, request.body, { ip: request.ip, nowMs: Date.now() });
    return { agent_id: request.agent!.agentId, rotated_at: rotatedAt };
  });
}

/** The enrollment audit entry of a request refused before it was read, with what can be read of it. */
async function auditRefusedEnrollment(sql: postgres.Sql, request: FastifyRequest, error: { code: string; message: string }): Promise<void> {
  const body = (typeof request.body === 'object' && request.body !== null ? request.body : {}) as Record<string, unknown>;
  const field = (name: string) => (typeof body[name] === 'string' ? repairText(body[name]).slice(0, AUDITED_FIELD_CHARS) : null);
  const [method, name, hostname] = [field('method'), field('name'), field('hostname')];
  await audit(sql, {
    actor: `enrollment:${name ?? hostname ?? 'unknown'}`, action: 'agent.enroll', target: name ?? hostname ?? undefined, outcome: 'failure',
    details: { method, name, hostname, ip: request.ip, code: error.code, reason: repairText(error.message) },
  });
}

/** The release key's public half, which the agent pins for self-update (absent before release keygen). */
async function releaseKeyField(sql: postgres.Sql): Promise<{ release_public_key?: string }> {
  const key = await activeReleaseKey(sql);
  return key ? { release_public_key: key.publicKey } : {};
}

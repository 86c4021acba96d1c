// An enrolled agent trades a signed assertion for a short-lived access token. The assertion is
// base64url(JSON { sub: agent id, aud: "pswm", iat, exp, jti }) + "." + base64url(Ed25519 signature
// over the first part's ASCII bytes), valid for at most five minutes and accepted once (its jti is
// remembered until it expires). Every attempt is audited.
import type postgres from 'postgres';
import { audit } from '../audit.ts';
import { UUID } from '../auth/tokens.ts';
import { apiError, isApiError } from '../api/errors.ts';
import type { AgentAuthority, AgentPrincipal } from './access-token.ts';
import { parseAgentPublicKey, signatureValid } from './identity.ts';

const ASSERTION_AUDIENCE = 'pswm';
const MAX_ASSERTION_SECONDS = 300;
/** Tolerated difference between the agent's clock and the server's. */
const CLOCK_SKEW_SECONDS = 60;

interface Claims { sub: string; aud: string; iat: number; exp: number; jti: string }

const PART = /^[A-Za-z0-9_-]+$/;
const JTI = /^[A-Za-z0-9_-]{16,128}$/;

/** The claims and signature of a well-formed, currently valid assertion for `agentId`; throws ASSERTION_INVALID. */
function readAssertion(assertion: string, agentId: string, nowMs: number): { claims: Claims; signedPart: string; signature: Buffer } {
  const invalid = (why: string) => apiError('ASSERTION_INVALID', `The assertion is invalid: ${why}.`);
  const [signedPart, signaturePart, ...rest] = assertion.split('.');
  if (rest.length || !PART.test(signedPart ?? '') || !PART.test(signaturePart ?? '')) throw invalid('expected base64url(payload).base64url(signature)');
  let claims: Claims;
  try {
    claims = JSON.parse(Buffer.from(signedPart, 'base64url').toString('utf8'));
  } catch {
    throw invalid('the payload is not JSON');
  }
  if (typeof claims !== 'object' || claims === null) throw invalid('the payload is not a JSON object');
  if (claims.sub !== agentId) throw invalid('sub is not the agent_id of the request');
  if (claims.aud !== ASSERTION_AUDIENCE) throw invalid(`aud must be "${ASSERTION_AUDIENCE}"`);
  if (!Number.isInteger(claims.iat) || !Number.isInteger(claims.exp)) throw invalid('iat and exp must be integers (unix seconds)');
  if (typeof claims.jti !== 'string' || !JTI.test(claims.jti)) throw invalid('jti must be 16 to 128 base64url characters');
  const now = Math.floor(nowMs / 1000);
  if (claims.exp <= now) throw invalid('it has expired');
  if (claims.iat > now + CLOCK_SKEW_SECONDS) throw invalid('iat is in the future (check the agent\'s clock)');
  if (claims.exp - claims.iat > MAX_ASSERTION_SECONDS || claims.exp > now + MAX_ASSERTION_SECONDS + CLOCK_SKEW_SECONDS) {
    throw invalid(`it may be valid for at most ${MAX_ASSERTION_SECONDS} seconds`);
  }
  return { claims, signedPart, signature: Buffer.from(signaturePart, 'base64url') };
}

export async function exchangeAssertion(
  sql: postgres.Sql,
  authority: AgentAuthority,
  input: { agentId: string; assertion: string },
  meta: { ip: string; nowMs: number },
): Promise<{ accessToken: string; expiresAt: Date; agent: AgentPrincipal }> {
  let actor = `agent:${input.agentId}`;
  try {
    const { claims, signedPart, signature } = readAssertion(input.assertion, input.agentId, meta.nowMs);
    const [agent] = UUID.test(input.agentId)
      ? await sql<{ id: string; name: string; organization: string; location: string; status: string; public_key: string | null }[]>`
          select id, name, organization, location, status, public_key from agents where id = ${input.agentId}`
      : [];
    if (!agent) throw apiError('ASSERTION_INVALID', 'The assertion is invalid: no agent has this agent_id.');
    actor = `agent:${agent.name}`;
    if (agent.status === 'revoked') throw apiError('AGENT_REVOKED');
    const key = agent.public_key ? parseAgentPublicKey(agent.public_key) : undefined;
    if (!key) throw apiError('ASSERTION_INVALID', 'The assertion is invalid: the agent has not enrolled yet.');
    if (!signatureValid(key, signedPart, signature)) throw apiError('ASSERTION_INVALID', 'The assertion is invalid: the signature does not verify with the agent\'s key.');
    const [fresh] = await sql`
      insert into used_assertions (agent_id, jti, expires_at) values (${agent.id}, ${claims.jti}, to_timestamp(${claims.exp}))
      on conflict do nothing returning jti`;
    if (!fresh) throw apiError('ASSERTION_REPLAYED');
    const principal = { agentId: agent.id, name: agent.name, organization: agent.organization, location: agent.location };
    const { token, expiresAt } = authority.issue(principal);
    // A successful exchange is routine (every agent, every ~15 minutes): counted in /metrics
    // (pswm_agent_tokens_issued_total), not audited; refusals are audited below.
    return { accessToken: token, expiresAt, agent: principal };
  } catch (error) {
    if (isApiError(error)) {
      await audit(sql, { actor, action: 'agent.token', target: input.agentId, outcome: 'failure', details: { ip: meta.ip, code: error.apiCode, reason: error.message } });
    }
    throw error;
  }
}

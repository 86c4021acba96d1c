// Key rotation without re-enrollment (docs/security.md "Key rotation"): an enrolled agent registers a
// new Ed25519 public key by a request that both keys sign, the old one proving it is the agent and
// the new one that the agent holds it. The text is single-use (its jti goes into used_assertions)
// and short-lived; the key changes only if the old one is still the agent's, and every attempt is
// audited.
import type postgres from 'postgres';
import { audit } from '../audit.ts';
import { apiError, isApiError } from '../api/errors.ts';
import type { AgentPrincipal } from './access-token.ts';
import { normalizedPem, parseAgentPublicKey, signatureValid } from './identity.ts';

export interface KeyRotationBody {
  jti: string;
  /** Unix seconds when the agent signed. */
  iat: number;
  public_key: string;
  /** The old key's signature over keyRotationMessage (base64). */
  signature: string;
  /** The new key's signature over the same text (base64). */
  new_key_signature: string;
}

/** What both keys sign; the new key last because it is the only field with newlines. */
export function keyRotationMessage(input: { agentId: string; jti: string; iat: number; publicKey: string }): string {
  return `pswm-rotate-key-v1\n${input.agentId}\n${input.jti}\n${input.iat}\n${input.publicKey}`;
}

const MAX_AGE_SECONDS = 300;
const CLOCK_SKEW_SECONDS = 60;

export async function rotateAgentKey(sql: postgres.Sql, agent: AgentPrincipal, body: KeyRotationBody, meta: { ip: string; nowMs: number }): Promise<{ rotatedAt: Date }> {
  const actor = `agent:${agent.name}`;
  try {
    const now = Math.floor(meta.nowMs / 1000);
    if (body.iat > now + CLOCK_SKEW_SECONDS || body.iat < now - MAX_AGE_SECONDS) throw apiError('SIGNATURE_INVALID', `The rotation request was signed at ${body.iat}, more than ${MAX_AGE_SECONDS} s from the server's time (${now}); check the agent's clock and sign again.`);
    const newKey = parseAgentPublicKey(body.public_key);
    if (!newKey) throw apiError('INVALID_PUBLIC_KEY');
    const newPem = normalizedPem(newKey);
    const message = keyRotationMessage({ agentId: agent.agentId, jti: body.jti, iat: body.iat, publicKey: body.public_key });
    const [row] = await sql<{ public_key: string | null; status: string }[]>`select public_key, status from agents where id = ${agent.agentId}`;
    if (!row || row.status !== 'active' || !row.public_key) throw apiError('AGENT_REVOKED');
    const oldKey = parseAgentPublicKey(row.public_key);
    if (!oldKey || !signatureValid(oldKey, message, body.signature)) throw apiError('SIGNATURE_INVALID', 'The rotation request is not signed by the agent\'s current key.');
    if (!signatureValid(newKey, message, body.new_key_signature)) throw apiError('SIGNATURE_INVALID', 'new_key_signature does not verify with the new public key: the agent must prove it holds the new key.');
    if (newPem === normalizedPem(oldKey)) throw apiError('CONFLICT', 'The new public key is the agent\'s current key.');
    const rotatedAt = await sql.begin(async (tx) => {
      const [fresh] = await tx`
        insert into used_assertions (agent_id, jti, expires_at) values (${agent.agentId}, ${body.jti}, to_timestamp(${body.iat + MAX_AGE_SECONDS + CLOCK_SKEW_SECONDS}))
        on conflict do nothing returning jti`;
      if (!fresh) throw apiError('ASSERTION_REPLAYED', 'This rotation request was already used; sign a new one with a fresh jti.');
      // only if the key is still the one that signed: two rotations at once cannot both win
      const [updated] = await tx<{ at: Date }[]>`
        update agents set public_key = ${newPem} where id = ${agent.agentId} and public_key = ${row.public_key} and status = 'active' returning now() as at`;
      if (!updated) throw apiError('CONFLICT', 'The agent\'s key changed while this request was checked; sign again with the current key.');
      await audit(tx, { actor, action: 'agent.key_rotate', target: agent.agentId, outcome: 'success', details: { ip: meta.ip, jti: body.jti } });
      return updated.at;
    });
    return { rotatedAt };
  } catch (error) {
    if (isApiError(error)) await audit(sql, { actor, action: 'agent.key_rotate', target: agent.agentId, outcome: 'failure', details: { ip: meta.ip, code: error.apiCode, reason: error.message } });
    throw error;
  }
}

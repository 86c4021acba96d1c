// pswm gencert --rotate: a new key pair registered with the server by a request both keys sign
// (docs/security.md "Key rotation"). The new pair waits beside the old one (agent.key.new,
// agent.pub.new) until the server confirms; only then does it replace agent.key/agent.pub. An
// answer lost on the way back leaves the pending pair, and the next --rotate first asks the server
// whether it already took it.
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { isNetworkError, ServerError } from '../api/http.ts';
import { createAgentSession } from '../api/session.ts';
import type { DataPaths } from '../paths.ts';
import type { AgentConfig } from './config.ts';
import { loadAgentKeys, saveAgentKeys, type AgentKeys } from './key-pair.ts';
import { keyRotationText, signText } from './signatures.ts';

export function pendingKeyFiles(paths: Pick<DataPaths, 'privateKey' | 'publicKey'>) {
  return { privateKey: `${paths.privateKey}.new`, publicKey: `${paths.publicKey}.new` };
}

/** The request body that registers `next` in place of `current`. Pure but for the jti's randomness. */
export function keyRotationBody(agentId: string, current: AgentKeys, next: AgentKeys, nowMs: number, jti = randomBytes(16).toString('base64url')) {
  const iat = Math.floor(nowMs / 1000);
  const text = keyRotationText({ agentId, jti, iat, publicKeyPem: next.publicKeyPem });
  return { jti, iat, public_key: next.publicKeyPem, signature: signText(current.privateKey, text), new_key_signature: signText(next.privateKey, text) };
}

export type RotationOutcome = 'rotated' | 'confirmed-earlier';

async function promote(keys: AgentKeys, paths: DataPaths): Promise<void> {
  await saveAgentKeys(keys, paths);
  const pending = pendingKeyFiles(paths);
  await rm(pending.privateKey, { force: true });
  await rm(pending.publicKey, { force: true });
}

/** Does the server accept `keys` as this agent's? (a token exchange signed with them) */
async function serverAccepts(config: AgentConfig, keys: AgentKeys): Promise<boolean> {
  try {
    await createAgentSession({ server: config.server, agentId: config.agent_id, keys }).accessToken();
    return true;
  } catch (error) {
    if (error instanceof ServerError && error.code === 'ASSERTION_INVALID') return false;
    throw error;
  }
}

export async function rotateAgentKey(config: AgentConfig, paths: DataPaths, next: AgentKeys): Promise<RotationOutcome> {
  const pending = pendingKeyFiles(paths);
  const earlier = await loadAgentKeys(pending.privateKey).catch(() => undefined);
  if (earlier && (await serverAccepts(config, earlier))) {
    await promote(earlier, paths);
    return 'confirmed-earlier';
  }
  const current = await loadAgentKeys(paths.privateKey);
  await saveAgentKeys(next, pending);
  const session = createAgentSession({ server: config.server, agentId: config.agent_id, keys: current });
  try {
    await session.call('POST', '/api/v1/agent/key', { body: keyRotationBody(config.agent_id, current, next, Date.now()) });
  } catch (error) {
    // no answer (or a server failure): the server may have taken the key; the pending pair stays
    // for the next --rotate, which asks first
    const refused = error instanceof ServerError && error.status < 500;
    if (refused || !isNetworkError(error)) {
      await rm(pending.privateKey, { force: true });
      await rm(pending.publicKey, { force: true });
    }
    throw error;
  }
  await promote(next, paths);
  return 'rotated';
}

// Agent releases: what a release signature covers and how an agent decides whether a rollout
// includes it. Shared by the server (`pswm-server release add` signs) and the agent (verifies
// before anything is staged), so the two can never disagree about the signed bytes.
import { createHash, createPublicKey, verify } from 'node:crypto';

export interface ReleaseIdentity {
  platform: string;
  version: string;
  /** Hex sha256 of the artifact. */
  sha256: string;
}

/** The signed message: a fixed prefix and the identity, one field a line. Signing the hash rather
 * than the artifact keeps a 100 MB build out of memory twice; the hash is checked separately. */
export function releaseMessage(release: ReleaseIdentity): Buffer {
  return Buffer.from(`pswm-release/v1\n${release.platform}\n${release.version}\n${release.sha256}\n`, 'utf8');
}

/** Ed25519 signature (base64) of `release` with the release key's public half (SPKI PEM). */
export function verifyReleaseSignature(publicKeyPem: string, release: ReleaseIdentity, signatureBase64: string): boolean {
  try {
    const key = createPublicKey(publicKeyPem);
    if (key.asymmetricKeyType !== 'ed25519') return false;
    return verify(null, releaseMessage(release), key, Buffer.from(signatureBase64, 'base64'));
  } catch {
    return false;
  }
}

/** 0–99, fixed per agent: an agent is in a rollout of p % when its bucket is below p, so raising the
 * percentage only ever adds agents (1 % → 10 % → 100 % rings are policy commits). */
export function rolloutBucket(agentId: string): number {
  return createHash('sha256').update(`pswm-rollout\n${agentId}`).digest().readUInt32BE(0) % 100;
}

export function inRollout(agentId: string, rolloutPercent: number): boolean {
  return rolloutBucket(agentId) < rolloutPercent;
}

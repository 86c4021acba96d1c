// An agent's identity is an Ed25519 key pair. The server only ever sees the public key (SPKI PEM) and
// signatures; these are the exact strings an agent signs (docs/security.md, "Enrollment protocol").
import { createPublicKey, randomBytes, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

export const ENROLL_METHODS = ['token', 'otp', 'queue'] as const;
export type EnrollMethod = (typeof ENROLL_METHODS)[number];

/** What an agent signs to enrol: the key sits last because it is the only field with newlines. */
export function enrollmentMessage(input: { nonce: string; method: EnrollMethod; name: string; publicKey: string }): string {
  return `pswm-enroll-v1\n${input.nonce}\n${input.method}\n${input.name}\n${input.publicKey}`;
}

/** What a queued agent signs to learn the decision on its request. */
export function requestStatusMessage(input: { nonce: string; requestId: string }): string {
  return `pswm-enroll-status-v1\n${input.nonce}\n${input.requestId}`;
}

/** An Ed25519 public key from SPKI PEM, or undefined for anything else (other key types, garbage). */
export function parseAgentPublicKey(pem: string): KeyObject | undefined {
  try {
    const key = createPublicKey({ key: pem, format: 'pem' });
    return key.type === 'public' && key.asymmetricKeyType === 'ed25519' ? key : undefined;
  } catch {
    return undefined;
  }
}

/** The one spelling stored for a key, whatever line endings or trailing space the agent sent. */
export function normalizedPem(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'pem' }).toString();
}

const ED25519_SIGNATURE_BYTES = 64;

/** Checks an Ed25519 signature given as base64 (standard or url alphabet) over the UTF-8 message. */
export function signatureValid(key: KeyObject, message: string, signature: string | Buffer): boolean {
  const bytes = typeof signature === 'string' ? Buffer.from(signature, 'base64') : signature;
  if (bytes.length !== ED25519_SIGNATURE_BYTES) return false;
  return verify(null, Buffer.from(message, 'utf8'), key, bytes);
}

/** A credential shown once: a recognisable prefix and 32 random bytes (stored only as sha256). */
export function generateCredential(prefix: string): string {
  return prefix + randomBytes(32).toString('base64url');
}

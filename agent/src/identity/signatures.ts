// The strings an agent signs, exactly as docs/security.md specifies them. Pure: the key, the clock
// and the randomness come from the caller, so tests can check the bytes.
import { randomBytes, sign, type KeyObject } from 'node:crypto';

export type EnrollMethod = 'token' | 'otp' | 'queue';

export function enrollmentText(input: { nonce: string; method: EnrollMethod; name?: string; publicKeyPem: string }): string {
  // the public key goes last: it is the only field with newlines
  return `pswm-enroll-v1\n${input.nonce}\n${input.method}\n${input.name ?? ''}\n${input.publicKeyPem}`;
}

export function requestStatusText(input: { nonce: string; requestId: string }): string {
  return `pswm-enroll-status-v1\n${input.nonce}\n${input.requestId}`;
}

/** What both the old and the new key sign to rotate the agent's key (docs/security.md "Key rotation"). */
export function keyRotationText(input: { agentId: string; jti: string; iat: number; publicKeyPem: string }): string {
  return `pswm-rotate-key-v1\n${input.agentId}\n${input.jti}\n${input.iat}\n${input.publicKeyPem}`;
}

/** base64 Ed25519 signature over the UTF-8 bytes of `text`. */
export function signText(privateKey: KeyObject, text: string): string {
  return sign(null, Buffer.from(text, 'utf8'), privateKey).toString('base64');
}

export interface AssertionClaims {
  sub: string;
  aud: 'pswm';
  iat: number;
  exp: number;
  jti: string;
}

/** The server accepts at most 300 s between iat and exp; 120 s leaves room for clock skew. */
export const ASSERTION_LIFETIME_SECONDS = 120;

export function assertionClaims(agentId: string, nowMs: number, jti = randomBytes(16).toString('base64url')): AssertionClaims {
  const iat = Math.floor(nowMs / 1000);
  return { sub: agentId, aud: 'pswm', iat, exp: iat + ASSERTION_LIFETIME_SECONDS, jti };
}

/** base64url(JSON claims) "." base64url(Ed25519 signature over the ASCII of the first part), as in JWS. */
export function buildAssertion(privateKey: KeyObject, claims: AssertionClaims): string {
  const payload = Buffer.from(JSON.stringify(claims), 'utf8').toString('base64url');
  return `${payload}.${sign(null, Buffer.from(payload, 'ascii'), privateKey).toString('base64url')}`;
}

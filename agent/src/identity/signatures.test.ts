import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { test } from 'node:test';
import { generateAgentKeys } from './key-pair.ts';
import { assertionClaims, buildAssertion, enrollmentText, requestStatusText, signText } from './signatures.ts';

test('the enrollment text is the five fields of docs/security.md joined by newlines, key last', () => {
  const text = enrollmentText({ nonce: 'n1', method: 'otp', name: 'kiosk-1', publicKeyPem: '-----BEGIN PUBLIC KEY-----\nAAA\n-----END PUBLIC KEY-----\n' });
  assert.equal(text, 'pswm-enroll-v1\nn1\notp\nkiosk-1\n-----BEGIN PUBLIC KEY-----\nAAA\n-----END PUBLIC KEY-----\n');
  assert.equal(enrollmentText({ nonce: 'n', method: 'token', publicKeyPem: 'K' }), 'pswm-enroll-v1\nn\ntoken\n\nK', 'an absent name is an empty line');
  assert.equal(requestStatusText({ nonce: 'n2', requestId: 'r-9' }), 'pswm-enroll-status-v1\nn2\nr-9');
});

test('a signed text verifies with the agent public key and not after a change', () => {
  const keys = generateAgentKeys();
  const signature = Buffer.from(signText(keys.privateKey, 'pswm-enroll-status-v1\nn\nr'), 'base64');
  const publicKey = createPublicKey(keys.publicKeyPem);
  assert.ok(verify(null, Buffer.from('pswm-enroll-status-v1\nn\nr'), publicKey, signature));
  assert.ok(!verify(null, Buffer.from('pswm-enroll-status-v1\nn\nR'), publicKey, signature));
});

test('an assertion is base64url claims and a signature over that text, as in JWS', () => {
  const keys = generateAgentKeys();
  const claims = assertionClaims('agent-1', Date.UTC(2026, 0, 1, 0, 0, 0, 900), 'jti-abcdefghijklmnop');
  assert.deepEqual(claims, { sub: 'agent-1', aud: 'pswm', iat: 1767225600, exp: 1767225720, jti: 'jti-abcdefghijklmnop' });
  const [payload, signature, extra] = buildAssertion(keys.privateKey, claims).split('.');
  assert.equal(extra, undefined);
  assert.deepEqual(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')), claims);
  assert.ok(verify(null, Buffer.from(payload, 'ascii'), createPublicKey(keys.publicKeyPem), Buffer.from(signature, 'base64url')));
});

test('every assertion gets its own jti (the server refuses a replayed one)', () => {
  const a = assertionClaims('agent-1', 0);
  const b = assertionClaims('agent-1', 0);
  assert.notEqual(a.jti, b.jti);
  assert.match(a.jti, /^[A-Za-z0-9_-]{16,128}$/);
});

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { detectProvider, verifySignature } from './webhook-signature.ts';
import type { GitProvider, Headers } from './webhook-signature.ts';

const secret = 'webhook-secret';
const body = Buffer.from('{"ref":"refs/heads/main","after":"abc"}');
const hmac = (key: string, data: Buffer) => createHmac('sha256', key).update(data).digest('hex');
const good = hmac(secret, body);

const cases: Array<{ name: string; provider: GitProvider; headers: Headers; ok: boolean }> = [
  { name: 'GitHub sha256=<hex> of the body', provider: 'github', headers: { 'x-hub-signature-256': `sha256=${good}` }, ok: true },
  { name: 'GitHub uppercase hex', provider: 'github', headers: { 'x-hub-signature-256': `sha256=${good.toUpperCase()}` }, ok: true },
  { name: 'GitHub signature made with another secret', provider: 'github', headers: { 'x-hub-signature-256': `sha256=${hmac('other', body)}` }, ok: false },
  { name: 'GitHub signature of another body', provider: 'github', headers: { 'x-hub-signature-256': `sha256=${hmac(secret, Buffer.from('{}'))}` }, ok: false },
  { name: 'GitHub signature missing', provider: 'github', headers: {}, ok: false },
  { name: 'GitHub signature truncated', provider: 'github', headers: { 'x-hub-signature-256': `sha256=${good.slice(0, 40)}` }, ok: false },
  { name: 'GitHub signature with an odd hex digit cut', provider: 'github', headers: { 'x-hub-signature-256': `sha256=${good.slice(0, -1)}` }, ok: false },
  { name: 'GitHub sha1 signature (wrong algorithm)', provider: 'github', headers: { 'x-hub-signature-256': `sha1=${createHmac('sha1', secret).update(body).digest('hex')}` }, ok: false },
  { name: 'GitHub bare hex without the sha256= prefix', provider: 'github', headers: { 'x-hub-signature-256': good }, ok: false },
  { name: 'GitHub X-Hub-Signature (sha1) alone', provider: 'github', headers: { 'x-hub-signature': `sha1=${good}` }, ok: false },
  { name: 'Gitea hex of the body', provider: 'gitea', headers: { 'x-gitea-signature': good }, ok: true },
  { name: 'Gitea wrong hex', provider: 'gitea', headers: { 'x-gitea-signature': hmac('other', body) }, ok: false },
  { name: 'Gitea signature missing', provider: 'gitea', headers: { 'x-hub-signature-256': `sha256=${good}` }, ok: false },
  { name: 'Gitea signature truncated', provider: 'gitea', headers: { 'x-gitea-signature': good.slice(0, 32) }, ok: false },
  { name: 'Gitea signature that is not hex', provider: 'gitea', headers: { 'x-gitea-signature': 'z'.repeat(64) }, ok: false },
  { name: 'GitLab token equal to the secret', provider: 'gitlab', headers: { 'x-gitlab-token': secret }, ok: true },
  { name: 'GitLab wrong token', provider: 'gitlab', headers: { 'x-gitlab-token': 'webhook-secreT' }, ok: false },
  { name: 'GitLab token that is a prefix of the secret', provider: 'gitlab', headers: { 'x-gitlab-token': secret.slice(0, 5) }, ok: false },
  { name: 'GitLab token missing', provider: 'gitlab', headers: {}, ok: false },
  { name: 'GitLab HMAC instead of the token', provider: 'gitlab', headers: { 'x-gitlab-token': good }, ok: false },
];

for (const { name, provider, headers, ok } of cases) {
  test(`signature: ${name} → ${ok ? 'accepted' : 'refused'}`, () => {
    const verdict = verifySignature(provider, headers, body, secret);
    assert.equal(verdict.ok, ok, JSON.stringify(verdict));
  });
}

test('a refused signature says why', () => {
  assert.deepEqual(verifySignature('github', {}, body, secret), { ok: false, reason: 'missing X-Hub-Signature-256' });
  assert.deepEqual(verifySignature('gitlab', { 'x-gitlab-token': 'no' }, body, secret), { ok: false, reason: 'wrong X-Gitlab-Token' });
});

test('the provider comes from the event header, Gitea before its GitHub compatibility header', () => {
  assert.deepEqual(detectProvider({ 'x-github-event': 'push' }), { provider: 'github', event: 'push' });
  assert.deepEqual(detectProvider({ 'x-gitea-event': 'push', 'x-github-event': 'push' }), { provider: 'gitea', event: 'push' });
  assert.deepEqual(detectProvider({ 'x-gitlab-event': 'Push Hook' }), { provider: 'gitlab', event: 'Push Hook' });
  assert.equal(detectProvider({ 'user-agent': 'curl' }), undefined);
});

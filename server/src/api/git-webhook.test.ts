import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import Fastify from 'fastify';
import { gitWebhookRoutes } from './git-webhook.ts';
import type { GitWebhookOptions } from './git-webhook.ts';

const secret = 'hook-secret';
// Pretty-printed on purpose: the signature must be checked over these exact bytes, not re-serialized JSON.
const pushBody = (ref = 'refs/heads/main') => JSON.stringify({ ref, after: 'c0ffee', commits: [] }, null, 2);
const sign = (body: string, key = secret) => createHmac('sha256', key).update(body).digest('hex');

async function appWith(options: Partial<GitWebhookOptions> = {}) {
  const pushes: unknown[] = [];
  const app = Fastify();
  await app.register(gitWebhookRoutes, { prefix: '/api/v1', secret, branch: 'main', onPush: (info) => pushes.push(info), ...options });
  // A sibling route: the webhook's raw-body parser must not leak out of its plugin.
  app.post('/echo', async (request) => request.body);
  return { app, pushes };
}

function deliver(app: Awaited<ReturnType<typeof appWith>>['app'], headers: Record<string, string>, body: string) {
  return app.inject({ method: 'POST', url: '/api/v1/hooks/git', headers: { 'content-type': 'application/json', ...headers }, payload: body });
}

test('a signed GitHub push to the tracked branch requests a reconcile (202)', async () => {
  const { app, pushes } = await appWith();
  const body = pushBody();
  const response = await deliver(app, { 'x-github-event': 'push', 'x-hub-signature-256': `sha256=${sign(body)}` }, body);
  assert.equal(response.statusCode, 202);
  assert.deepEqual(response.json(), { reconcile: 'requested' });
  assert.deepEqual(pushes, [{ provider: 'github', ref: 'refs/heads/main', after: 'c0ffee' }]);
});

test('signed Gitea and GitLab pushes request a reconcile', async () => {
  const { app, pushes } = await appWith();
  const body = pushBody();
  assert.equal((await deliver(app, { 'x-gitea-event': 'push', 'x-gitea-signature': sign(body) }, body)).statusCode, 202);
  assert.equal((await deliver(app, { 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': secret }, body)).statusCode, 202);
  assert.deepEqual(pushes.map((push) => (push as { provider: string }).provider), ['gitea', 'gitlab']);
});

test('unsigned and wrongly signed pushes are refused with 401 and request nothing', async () => {
  const { app, pushes } = await appWith();
  const body = pushBody();
  const unsigned = await deliver(app, { 'x-github-event': 'push' }, body);
  assert.equal(unsigned.statusCode, 401);
  assert.match(unsigned.json().message, /missing X-Hub-Signature-256/);
  assert.equal((await deliver(app, { 'x-github-event': 'push', 'x-hub-signature-256': `sha256=${sign(body, 'guess')}` }, body)).statusCode, 401);
  assert.equal((await deliver(app, { 'x-gitea-event': 'push', 'x-gitea-signature': sign(`${body} `) }, body)).statusCode, 401);
  assert.equal((await deliver(app, { 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': 'guess' }, body)).statusCode, 401);
  assert.deepEqual(pushes, []);
});

test('pings, other events and pushes to other branches are answered 200 and ignored', async () => {
  const { app, pushes } = await appWith();
  const ping = '{"zen":"Keep it logically awesome."}';
  const pingResponse = await deliver(app, { 'x-github-event': 'ping', 'x-hub-signature-256': `sha256=${sign(ping)}` }, ping);
  assert.equal(pingResponse.statusCode, 200);
  assert.deepEqual(pingResponse.json(), { ignored: 'ping' });
  const other = pushBody('refs/heads/feature');
  const otherResponse = await deliver(app, { 'x-gitea-event': 'push', 'x-gitea-signature': sign(other) }, other);
  assert.equal(otherResponse.statusCode, 200);
  assert.match(otherResponse.json().ignored, /refs\/heads\/feature/);
  const tag = await deliver(app, { 'x-gitlab-event': 'Tag Push Hook', 'x-gitlab-token': secret }, pushBody('refs/tags/v1'));
  assert.deepEqual(tag.json(), { ignored: 'event Tag Push Hook' });
  assert.deepEqual(pushes, []);
});

test('malformed payloads and requests that are not webhooks get 400', async () => {
  const { app, pushes } = await appWith();
  const broken = '{"ref": ';
  const response = await deliver(app, { 'x-github-event': 'push', 'x-hub-signature-256': `sha256=${sign(broken)}` }, broken);
  assert.equal(response.statusCode, 400);
  assert.match(response.json().message, /not a JSON object/);
  const noRef = '{"after":"x"}';
  assert.equal((await deliver(app, { 'x-gitea-event': 'push', 'x-gitea-signature': sign(noRef) }, noRef)).statusCode, 400);
  assert.equal((await deliver(app, {}, pushBody())).statusCode, 400);
  assert.deepEqual(pushes, []);
});

test('a GitHub form-encoded delivery is verified over the raw form body', async () => {
  const { app, pushes } = await appWith();
  const form = new URLSearchParams({ payload: pushBody() }).toString();
  const response = await app.inject({
    method: 'POST',
    url: '/api/v1/hooks/git',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-github-event': 'push', 'x-hub-signature-256': `sha256=${sign(form)}` },
    payload: form,
  });
  assert.equal(response.statusCode, 202);
  assert.equal(pushes.length, 1);
});

test('without a configured secret, unsigned pushes are accepted', async () => {
  const { app, pushes } = await appWith({ secret: undefined });
  assert.equal((await deliver(app, { 'x-github-event': 'push' }, pushBody())).statusCode, 202);
  assert.equal(pushes.length, 1);
});

test('routes outside the webhook plugin still get parsed JSON', async () => {
  const { app } = await appWith();
  const response = await app.inject({ method: 'POST', url: '/echo', payload: { a: 1 } });
  assert.deepEqual(response.json(), { a: 1 });
});

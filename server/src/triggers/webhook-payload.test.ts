import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decideWebhook } from './webhook-payload.ts';
import type { WebhookDecision } from './webhook-payload.ts';
import type { GitProvider } from './webhook-signature.ts';

const push = (ref: string, extra: object = {}) => Buffer.from(JSON.stringify({ ref, after: 'c0ffee', ...extra }));
const decide = (provider: GitProvider, event: string, rawBody: Buffer, contentType = 'application/json') => decideWebhook({ provider, event, rawBody, contentType, branch: 'main' });

const cases: Array<{ name: string; decision: WebhookDecision; expected: WebhookDecision }> = [
  { name: 'GitHub push to the tracked branch', decision: decide('github', 'push', push('refs/heads/main')), expected: { action: 'reconcile', provider: 'github', ref: 'refs/heads/main', after: 'c0ffee' } },
  { name: 'Gitea push to the tracked branch', decision: decide('gitea', 'push', push('refs/heads/main')), expected: { action: 'reconcile', provider: 'gitea', ref: 'refs/heads/main', after: 'c0ffee' } },
  { name: 'GitLab Push Hook to the tracked branch', decision: decide('gitlab', 'Push Hook', push('refs/heads/main')), expected: { action: 'reconcile', provider: 'gitlab', ref: 'refs/heads/main', after: 'c0ffee' } },
  { name: 'push without "after"', decision: decide('github', 'push', Buffer.from('{"ref":"refs/heads/main"}')), expected: { action: 'reconcile', provider: 'github', ref: 'refs/heads/main' } },
  {
    name: 'GitHub form-encoded payload',
    decision: decide('github', 'push', Buffer.from(new URLSearchParams({ payload: push('refs/heads/main').toString() }).toString()), 'application/x-www-form-urlencoded'),
    expected: { action: 'reconcile', provider: 'github', ref: 'refs/heads/main', after: 'c0ffee' },
  },
  { name: 'push to another branch', decision: decide('github', 'push', push('refs/heads/feature')), expected: { action: 'ignore', reason: 'push to refs/heads/feature, not refs/heads/main' } },
  { name: 'tag named like the branch', decision: decide('gitea', 'push', push('refs/tags/main')), expected: { action: 'ignore', reason: 'push to refs/tags/main, not refs/heads/main' } },
  { name: 'GitHub ping', decision: decide('github', 'ping', Buffer.from('{"zen":"hi"}')), expected: { action: 'ignore', reason: 'ping' } },
  { name: 'GitHub pull_request', decision: decide('github', 'pull_request', Buffer.from('not json')), expected: { action: 'ignore', reason: 'event pull_request' } },
  { name: 'GitLab "push" is not its push event name', decision: decide('gitlab', 'push', push('refs/heads/main')), expected: { action: 'ignore', reason: 'event push' } },
  { name: 'GitLab Tag Push Hook', decision: decide('gitlab', 'Tag Push Hook', push('refs/tags/v1')), expected: { action: 'ignore', reason: 'event Tag Push Hook' } },
  { name: 'body that is not JSON', decision: decide('github', 'push', Buffer.from('{"ref":')), expected: { action: 'malformed', reason: 'the body is not a JSON object' } },
  { name: 'JSON array body', decision: decide('github', 'push', Buffer.from('[]')), expected: { action: 'malformed', reason: 'the body is not a JSON object' } },
  { name: 'push without ref', decision: decide('gitea', 'push', Buffer.from('{"after":"x"}')), expected: { action: 'malformed', reason: 'the push payload has no "ref"' } },
  { name: 'numeric ref', decision: decide('gitlab', 'Push Hook', Buffer.from('{"ref":7}')), expected: { action: 'malformed', reason: 'the push payload has no "ref"' } },
  { name: 'numeric after', decision: decide('github', 'push', Buffer.from('{"ref":"refs/heads/main","after":1}')), expected: { action: 'malformed', reason: 'the push payload\'s "after" is not a string' } },
  { name: 'form without a payload field', decision: decide('github', 'push', Buffer.from('other=1'), 'application/x-www-form-urlencoded'), expected: { action: 'malformed', reason: 'the body is not a JSON object' } },
];

for (const { name, decision, expected } of cases) {
  test(`webhook: ${name} → ${expected.action}`, () => {
    assert.deepEqual(decision, expected);
  });
}

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { credentialsFor, splitUrlCredentials } from './auth.ts';

const cases = [
  { name: 'GitHub personal access token', url: 'https://github.com/acme/policy.git', credentials: { token: 'ghp_abc' }, expected: { username: 'ghp_abc', password: 'x-oauth-basic' } },
  { name: 'GitHub App installation token', url: 'https://github.com/acme/policy.git', credentials: { token: 'ghs_abc' }, expected: { username: 'x-access-token', password: 'ghs_abc' } },
  { name: 'GitLab.com token', url: 'https://gitlab.com/acme/policy.git', credentials: { token: 'glpat-abc' }, expected: { username: 'oauth2', password: 'glpat-abc' } },
  { name: 'self-hosted GitLab', url: 'https://gitlab.acme.test/acme/policy.git', credentials: { token: 'glpat-abc' }, expected: { username: 'oauth2', password: 'glpat-abc' } },
  { name: 'Bitbucket access token', url: 'https://bitbucket.org/acme/policy.git', credentials: { token: 'bb' }, expected: { username: 'x-token-auth', password: 'bb' } },
  { name: 'Gitea (unknown host): token as username', url: 'https://git.acme.test/acme/policy.git', credentials: { token: 'tea' }, expected: { username: 'tea', password: 'x-oauth-basic' } },
  { name: 'PSWM_GIT_USERNAME overrides the convention', url: 'https://github.com/acme/policy.git', credentials: { username: 'bot', token: 'ghp_abc' }, expected: { username: 'bot', password: 'ghp_abc' } },
  { name: 'a full Authorization header', url: 'https://dev.azure.com/acme/_git/policy', credentials: { token: 'Bearer eyJ' }, expected: { headers: { Authorization: 'Bearer eyJ' } } },
  { name: 'username without a token', url: 'https://git.acme.test/p.git', credentials: { username: 'anon' }, expected: { username: 'anon', password: '' } },
  { name: 'nothing configured', url: 'https://github.com/acme/policy.git', credentials: {}, expected: undefined },
];

for (const { name, url, credentials, expected } of cases) {
  test(`credentials: ${name}`, () => {
    assert.deepEqual(credentialsFor(url, credentials), expected);
  });
}

test('credentials embedded in a URL are split off and decoded', () => {
  assert.deepEqual(splitUrlCredentials('https://bot:p%40ss@git.acme.test/policy.git'), { url: 'https://git.acme.test/policy.git', username: 'bot', password: 'p@ss' });
  assert.deepEqual(splitUrlCredentials('https://git.acme.test/policy.git'), { url: 'https://git.acme.test/policy.git', username: undefined, password: undefined });
});

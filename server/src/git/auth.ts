// Credentials for a remote policy repository. Hosted forges each expect a token under a different
// basic-auth username; picking the right one here lets operators configure just PSWM_GIT_TOKEN.
import type { GitAuth } from 'isomorphic-git';

export interface GitCredentials {
  username?: string;
  token?: string;
}

/** Splits `https://user:pass@host/repo` into a URL safe to store and log, and the credentials it
 * carried (isomorphic-git would otherwise write them into .git/config). */
export function splitUrlCredentials(url: string): { url: string; username?: string; password?: string } {
  const parsed = new URL(url);
  const username = parsed.username ? decodeURIComponent(parsed.username) : undefined;
  const password = parsed.password ? decodeURIComponent(parsed.password) : undefined;
  parsed.username = '';
  parsed.password = '';
  return { url: parsed.toString(), username, password };
}

/** The basic-auth (or header) answer to a 401 from `url`, or undefined when nothing is configured.
 * - a token starting with "Basic " or "Bearer " is sent verbatim as the Authorization header;
 * - an explicit username (PSWM_GIT_USERNAME) is used as is with the token as password;
 * - otherwise the forge's convention for access tokens, chosen by host name. */
export function credentialsFor(url: string, credentials: GitCredentials): GitAuth | undefined {
  const { username, token } = credentials;
  if (!token) return username ? { username, password: '' } : undefined;
  if (/^(Basic|Bearer) /.test(token)) return { headers: { Authorization: token } };
  if (username) return { username, password: token };
  const host = new URL(url).hostname.toLowerCase();
  if (host === 'github.com' || host.endsWith('.github.com') || host.endsWith('.ghe.com')) {
    // Installation tokens of GitHub Apps (ghs_) only work as the password of x-access-token.
    return token.startsWith('ghs_') ? { username: 'x-access-token', password: token } : { username: token, password: 'x-oauth-basic' };
  }
  if (host === 'gitlab.com' || host.startsWith('gitlab.')) return { username: 'oauth2', password: token };
  if (host === 'bitbucket.org' || host.endsWith('.bitbucket.org')) return { username: 'x-token-auth', password: token };
  // Gitea, Forgejo and GitHub Enterprise accept the token as the username with this password.
  return { username: token, password: 'x-oauth-basic' };
}

// Who sent a git webhook and whether it carries proof of the shared secret. Pure: headers and the
// raw body in, a verdict out. GitHub and Gitea sign the exact body bytes (HMAC-SHA256); GitLab
// sends the secret itself as a token.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export type GitProvider = 'github' | 'gitea' | 'gitlab';

export type Headers = Record<string, string | string[] | undefined>;

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The forge that sent the request, from its event header. Gitea (and Forgejo) also send
 * X-GitHub-Event for compatibility, so Gitea is recognised first. */
export function detectProvider(headers: Headers): { provider: GitProvider; event: string } | undefined {
  const gitea = header(headers, 'x-gitea-event');
  if (gitea !== undefined) return { provider: 'gitea', event: gitea };
  const gitlab = header(headers, 'x-gitlab-event');
  if (gitlab !== undefined) return { provider: 'gitlab', event: gitlab };
  const github = header(headers, 'x-github-event');
  if (github !== undefined) return { provider: 'github', event: github };
  return undefined;
}

export type SignatureVerdict = { ok: true } | { ok: false; reason: string };

export function verifySignature(provider: GitProvider, headers: Headers, rawBody: Buffer, secret: string): SignatureVerdict {
  if (provider === 'gitlab') {
    const token = header(headers, 'x-gitlab-token');
    if (token === undefined) return { ok: false, reason: 'missing X-Gitlab-Token' };
    // Compare digests so the comparison takes the same time whatever the token's length.
    return digestsEqual(sha256(token), sha256(secret)) ? { ok: true } : { ok: false, reason: 'wrong X-Gitlab-Token' };
  }
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  if (provider === 'gitea') {
    const signature = header(headers, 'x-gitea-signature');
    if (signature === undefined) return { ok: false, reason: 'missing X-Gitea-Signature' };
    return hexEquals(signature, expected) ? { ok: true } : { ok: false, reason: 'wrong X-Gitea-Signature' };
  }
  const signature = header(headers, 'x-hub-signature-256');
  if (signature === undefined) return { ok: false, reason: 'missing X-Hub-Signature-256' };
  if (!signature.startsWith('sha256=')) return { ok: false, reason: 'X-Hub-Signature-256 is not sha256=<hex>' };
  return hexEquals(signature.slice('sha256='.length), expected) ? { ok: true } : { ok: false, reason: 'wrong X-Hub-Signature-256' };
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function hexEquals(hex: string, expected: Buffer): boolean {
  if (!/^[0-9a-f]*$/i.test(hex)) return false;
  return digestsEqual(Buffer.from(hex, 'hex'), expected);
}

function digestsEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

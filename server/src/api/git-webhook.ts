// POST /hooks/git (under /api/v1): push webhooks from GitHub, Gitea and GitLab. A verified push to
// the tracked branch requests a reconcile; the reconcile itself fetches, so the payload is only a
// hint and never trusted for content.
import type { FastifyPluginAsync } from 'fastify';
import { decideWebhook } from '../triggers/webhook-payload.ts';
import { detectProvider, verifySignature } from '../triggers/webhook-signature.ts';
import type { GitProvider } from '../triggers/webhook-signature.ts';
import { apiError } from './errors.ts';
import { CREDENTIAL_RATE_LIMIT } from './rate-limit.ts';

export interface GitWebhookOptions {
  /** PSWM_WEBHOOK_SECRET. Without it deliveries are not authenticated (they can only cause a fetch). */
  secret?: string;
  branch: string;
  onPush: (info: { provider: GitProvider; ref: string; after?: string }) => void;
}

// GitHub caps deliveries at 25 MB; a push of many commits can pass fastify's 1 MiB default.
const WEBHOOK_BODY_LIMIT_BYTES = 5 * 1024 * 1024;

export const gitWebhookRoutes: FastifyPluginAsync<GitWebhookOptions> = async (app, options) => {
  // The HMAC covers the exact bytes sent, so this scope (and only this scope: the plugin is not
  // wrapped in fastify-plugin) keeps every body as a raw Buffer instead of parsed JSON.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  if (!options.secret) app.log.warn('PSWM_WEBHOOK_SECRET is not set: git webhook deliveries are not authenticated');

  app.post('/hooks/git', { bodyLimit: WEBHOOK_BODY_LIMIT_BYTES, config: CREDENTIAL_RATE_LIMIT }, async (request, reply) => {
    const sender = detectProvider(request.headers);
    if (!sender) throw apiError('BAD_REQUEST', 'Not a git webhook: expected an X-GitHub-Event, X-Gitea-Event or X-Gitlab-Event header.');
    const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    if (options.secret) {
      const verdict = verifySignature(sender.provider, request.headers, rawBody, options.secret);
      if (!verdict.ok) {
        request.log.warn({ provider: sender.provider, reason: verdict.reason }, 'git webhook refused');
        throw apiError('UNAUTHENTICATED', `Webhook signature refused: ${verdict.reason}.`);
      }
    }
    const decision = decideWebhook({ ...sender, rawBody, contentType: request.headers['content-type'], branch: options.branch });
    if (decision.action === 'malformed') throw apiError('BAD_REQUEST', `Malformed ${sender.provider} webhook: ${decision.reason}.`);
    if (decision.action === 'ignore') return reply.code(200).send({ ignored: decision.reason });
    const { provider, ref, after } = decision;
    request.log.info({ provider, ref, after }, 'git webhook requested a reconcile');
    options.onPush(after === undefined ? { provider, ref } : { provider, ref, after });
    return reply.code(202).send({ reconcile: 'requested' });
  });
};

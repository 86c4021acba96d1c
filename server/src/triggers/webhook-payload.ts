// What a verified git webhook asks for: a reconcile when it is a push to the tracked branch,
// nothing otherwise. Pure: provider, event, content type and raw body in, a decision out.
import type { GitProvider } from './webhook-signature.ts';

export type WebhookDecision =
  | { action: 'reconcile'; provider: GitProvider; ref: string; after?: string }
  | { action: 'ignore'; reason: string }
  | { action: 'malformed'; reason: string };

const PUSH_EVENTS: Record<GitProvider, string> = { github: 'push', gitea: 'push', gitlab: 'Push Hook' };

export function decideWebhook(input: { provider: GitProvider; event: string; contentType?: string; rawBody: Buffer; branch: string }): WebhookDecision {
  const { provider, event, branch } = input;
  if (event !== PUSH_EVENTS[provider]) return { action: 'ignore', reason: event === 'ping' ? 'ping' : `event ${event}` };
  const payload = parsePayload(input.rawBody, input.contentType);
  if (payload === undefined) return { action: 'malformed', reason: 'the body is not a JSON object' };
  const { ref, after } = payload as { ref?: unknown; after?: unknown };
  if (typeof ref !== 'string') return { action: 'malformed', reason: 'the push payload has no "ref"' };
  if (after !== undefined && typeof after !== 'string') return { action: 'malformed', reason: 'the push payload\'s "after" is not a string' };
  if (ref !== `refs/heads/${branch}`) return { action: 'ignore', reason: `push to ${ref}, not refs/heads/${branch}` };
  return after === undefined ? { action: 'reconcile', provider, ref } : { action: 'reconcile', provider, ref, after };
}

/** GitHub can deliver the JSON as the `payload` field of a form (content type
 * application/x-www-form-urlencoded); everyone else sends JSON. */
function parsePayload(rawBody: Buffer, contentType = ''): object | undefined {
  const text = contentType.includes('application/x-www-form-urlencoded') ? new URLSearchParams(rawBody.toString('utf8')).get('payload') : rawBody.toString('utf8');
  if (text === null) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

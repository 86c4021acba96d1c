// The envelope every document shares: a mapping with apiVersion pswm/v1 and a known kind.
// Checked before the kind's schema so the admin gets one clear error instead of a schema cascade.
import { policyError } from '../errors.ts';
import { API_VERSION, KINDS } from '../model.ts';
import type { Kind, PolicyError, SourcePosition } from '../model.ts';
import { didYouMean } from './closest-name.ts';
import type { ParsedDocument } from './yaml-file.ts';

export type EnvelopeResult = { ok: true; kind: Kind; body: Record<string, unknown> } | { ok: false; error: PolicyError };

export function checkEnvelope(parsed: ParsedDocument): EnvelopeResult {
  const { value, at } = parsed;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const got = Array.isArray(value) ? 'a list' : `${typeof value} ${JSON.stringify(value)}`;
    return fail('NOT_A_MAPPING', `document ${parsed.index + 1} must be a mapping with apiVersion, kind, metadata and spec; got ${got}`, parsed.source);
  }
  const body = value as Record<string, unknown>;
  if (!('apiVersion' in body)) return fail('API_VERSION', `document is missing apiVersion; use "apiVersion: ${API_VERSION}"`, parsed.source);
  if (body.apiVersion !== API_VERSION) {
    return fail('API_VERSION', `apiVersion is ${JSON.stringify(body.apiVersion)}; this version of pswm reads "${API_VERSION}"`, at.valueAt(['apiVersion']));
  }
  const kinds = KINDS.join(', ');
  if (!('kind' in body)) return fail('UNKNOWN_KIND', `document is missing kind; it must be one of ${kinds}`, parsed.source);
  if (typeof body.kind !== 'string' || !(KINDS as readonly string[]).includes(body.kind)) {
    const hint = typeof body.kind === 'string' ? didYouMean(body.kind, KINDS) : '';
    const list = hint ? ` The kinds are ${kinds}.` : `; the kinds are ${kinds}`;
    return fail('UNKNOWN_KIND', `unknown kind ${JSON.stringify(body.kind)}${hint}${list}`, at.valueAt(['kind']));
  }
  return { ok: true, kind: body.kind as Kind, body };
}

function fail(code: 'NOT_A_MAPPING' | 'API_VERSION' | 'UNKNOWN_KIND', message: string, at: SourcePosition): EnvelopeResult {
  return { ok: false, error: policyError(code, message, at) };
}

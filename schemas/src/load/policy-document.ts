// A parsed YAML document → a typed PolicyDocument once its envelope and its kind's schema hold.
import type { Kind, Metadata, PolicyDocument, PolicyError } from '../model.ts';
import { checkEnvelope } from './envelope.ts';
import { checkSchema } from './schema-check.ts';
import type { ParsedDocument } from './yaml-file.ts';

export type DocumentResult =
  | { ok: true; document: PolicyDocument }
  | { ok: false; errors: PolicyError[]; /** kind and name when readable, so references to it don't cascade */ declared?: { kind: Kind; id: string } };

export function toPolicyDocument(parsed: ParsedDocument): DocumentResult {
  const envelope = checkEnvelope(parsed);
  if (!envelope.ok) return { ok: false, errors: [envelope.error] };
  const { kind, body } = envelope;
  const errors = checkSchema(kind, body, parsed.at);
  if (errors.length > 0) return { ok: false, errors, declared: readableIdentity(kind, body) };
  const metadata = body.metadata as Metadata;
  const spec = body.spec as PolicyDocument['spec'];
  const document: PolicyDocument = {
    kind,
    id: identityOf(kind, metadata.name, spec),
    metadata,
    spec,
    source: parsed.source,
    positionOf: (path) => parsed.at.valueAt(path),
  };
  return { ok: true, document };
}

/** Unique identity within a kind: a Location is named within its organization. */
function identityOf(kind: Kind, name: string, spec: unknown): string {
  return kind === 'Location' ? `${(spec as { organization: string }).organization}/${name}` : name;
}

function readableIdentity(kind: Kind, body: Record<string, unknown>): { kind: Kind; id: string } | undefined {
  const name = (body.metadata as { name?: unknown } | undefined)?.name;
  if (typeof name !== 'string') return undefined;
  const organization = (body.spec as { organization?: unknown } | undefined)?.organization;
  if (kind === 'Location' && typeof organization !== 'string') return undefined;
  return { kind, id: identityOf(kind, name, body.spec) };
}

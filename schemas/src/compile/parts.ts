// The two parts a scope's document is stored as, and their canonical text. A settings part is small
// and nearly every scope has its own; a resources part is large and shared by every scope of a
// location that no object names individually. Keeping them apart is what lets 11,000 scopes store
// ~1,000 resources parts instead of 11,000 full documents.
import type { DesiredState, DocumentPart } from '../model.ts';
import { canonicalJson, sha256Hex } from '../canonical-json.ts';
import type { ExternalFactResource, ScriptResource } from './scripts.ts';
import type { PreparedPackage } from './packages.ts';
import type { MergedSettings } from './settings.ts';

export type SettingsPart = Pick<DesiredState, 'settings' | 'provenance'>;
export type ResourcesPart = Pick<DesiredState, 'packages' | 'conflicts'> & { scripts: ScriptResource[]; external_facts: ExternalFactResource[] };

/** A resource with its canonical JSON, worked out once per policy and spliced into every part. */
export interface Prepared<T> {
  resource: T;
  json: string;
}

export function documentPart(json: string): DocumentPart {
  return { json, sha256: sha256Hex(json) };
}

export function settingsPartJson({ settings, history }: MergedSettings): string {
  // Provenance carries no line numbers: an edit that only moves lines must not change the hash.
  const provenance: SettingsPart['provenance'] = {};
  for (const [key, assignments] of history) {
    const { layer } = assignments.at(-1)!;
    provenance[key] = layer.source ? { document: layer.document, file: layer.source.source.file } : { document: layer.document };
  }
  return canonicalJson({ provenance, settings } satisfies SettingsPart);
}

/** canonicalJson of the ResourcesPart, spliced from canonical pieces: keys in code-unit order
 * (conflicts < external_facts < packages < scripts), lists already in their compiled order. */
export function resourcesPartJson(
  scripts: Array<Prepared<ScriptResource>>,
  externalFacts: Array<Prepared<ExternalFactResource>>,
  packages: PreparedPackage[],
  conflicts: DesiredState['conflicts'],
): string {
  const list = (items: Array<{ json: string }>) => `[${items.map((item) => item.json).join(',')}]`;
  return `{"conflicts":${canonicalJson(conflicts)},"external_facts":${list(externalFacts)},"packages":${list(packages)},"scripts":${list(scripts)}}`;
}

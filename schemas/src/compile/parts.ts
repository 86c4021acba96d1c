// The two parts a scope's document is stored as, and their canonical text. A settings part is small
// and nearly every scope has its own; a resources part is large and shared by every scope that no
// target tells apart (all agents of a location, often all locations of an organization). Keeping
// them apart is what lets 11,000 scopes store a few hundred resources parts instead of 11,000 full
// documents (see bench/compile.ts).
import { canonicalJson, sha256Hex } from '../canonical-json.ts';
import type { ExternalFactResource, ScriptResource } from './scripts.ts';
import type { PreparedPackage } from './packages.ts';
import type { DesiredState, DocumentPart, SettingsBlock } from '../model.ts';
import { isPlainObject, mergeSettings, type MergedSettings, type SettingsLayer } from './settings.ts';

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


/** A merge with the canonical text of its settings part, and where in that text each provenance
 * entry and each settings leaf's value sit, so a layer on top of it can be spliced in. */
export interface SerializedSettings {
  merged: MergedSettings;
  json: string;
  /** Per dotted leaf key: [start, end) of its provenance entry and of its value in `json`. */
  spans: Map<string, { provenance: Span; value: Span }>;
}

type Span = [start: number, end: number];

/** canonicalJson of the SettingsPart of `merged` (keys in UTF-16 code-unit order, as canonicalJson
 * orders them; plain sort() does that), written by hand to note the spans. */
export function serializeSettings(merged: MergedSettings): SerializedSettings {
  const provenanceSpans = new Map<string, Span>();
  const valueSpans = new Map<string, Span>();
  let json = '{"provenance":{';
  [...merged.history.keys()].sort().forEach((key, i) => {
    const entry = provenanceEntryJson(key, merged.history.get(key)!.at(-1)!.layer);
    json += i ? ',' : '';
    provenanceSpans.set(key, [json.length, json.length + entry.length]);
    json += entry;
  });
  json += '},"settings":';
  const writeTree = (node: Record<string, unknown>, prefix: string) => {
    json += '{';
    Object.keys(node)
      .filter((key) => node[key] !== undefined)
      .sort()
      .forEach((key, i) => {
        json += `${i ? ',' : ''}${JSON.stringify(key)}:`;
        const value = node[key];
        if (isPlainObject(value)) return writeTree(value, `${prefix}${key}.`);
        const text = canonicalJson(value);
        valueSpans.set(`${prefix}${key}`, [json.length, json.length + text.length]);
        json += text;
      });
    json += '}';
  };
  writeTree(merged.settings as Record<string, unknown>, '');
  json += '}';
  const spans = new Map([...provenanceSpans].map(([key, provenance]) => [key, { provenance, value: valueSpans.get(key)! }]));
  return { merged, json, spans };
}

/** The settings part of `layer` merged onto `base`: serializeSettings(mergeSettings([layer],
 * base.merged)).json. When the layer only replaces leaves the base already has (what an override
 * does), just those values and provenance entries are spliced into the base's text: 10,000
 * overrides of a fleet must not re-serialize the other twenty-odd leaves each. */
export function overlaySettingsJson(base: SerializedSettings, layer: SettingsLayer): string {
  const leaves = replacedLeaves(layer.block, base.spans);
  if (!leaves) return serializeSettings(mergeSettings([layer], base.merged)).json;
  const edits: Array<{ span: Span; text: string }> = [];
  for (const { key, value } of leaves) {
    const spans = base.spans.get(key)!;
    edits.push({ span: spans.provenance, text: provenanceEntryJson(key, layer) }, { span: spans.value, text: canonicalJson(value) });
  }
  edits.sort((a, b) => a.span[0] - b.span[0]);
  let json = '';
  let at = 0;
  for (const { span, text } of edits) {
    json += base.json.slice(at, span[0]) + text;
    at = span[1];
  }
  return json + base.json.slice(at);
}

/** The leaves a settings block sets, or undefined unless each one replaces an existing leaf and no
 * empty object is set, i.e. unless the merge changes no shape. */
function replacedLeaves(block: SettingsBlock, existing: Map<string, unknown>): Array<{ key: string; value: unknown }> | undefined {
  const leaves: Array<{ key: string; value: unknown }> = [];
  const visit = (node: Record<string, unknown>, prefix: string): boolean => {
    const entries = Object.entries(node).filter(([, value]) => value !== undefined);
    if (!entries.length) return false;
    return entries.every(([name, value]) => {
      const key = prefix + name;
      if (isPlainObject(value)) return visit(value, `${key}.`);
      leaves.push({ key, value });
      return existing.has(key);
    });
  };
  return visit(block as Record<string, unknown>, '') ? leaves : undefined;
}

/** Provenance carries no line numbers: an edit that only moves lines must not change the hash.
 * The entry's keys are written in canonical order ("document" < "file"), so JSON.stringify of it is
 * its canonical JSON, without canonicalJson's generic walk 20,000 times a fleet. */
function provenanceEntryJson(key: string, layer: SettingsLayer): string {
  const entry: SettingsPart['provenance'][string] = layer.source ? { document: layer.document, file: layer.source.source.file } : { document: layer.document };
  return `${JSON.stringify(key)}:${JSON.stringify(entry)}`;
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

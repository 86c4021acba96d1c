import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PolicyDocument, SettingsBlock } from '../model.ts';
import { canonicalJson } from '../canonical-json.ts';
import { defaultsLayer, mergeSettings, type MergedSettings, type SettingsLayer } from './settings.ts';
import { overlaySettingsJson, serializeSettings } from './parts.ts';

const source = (file: string) => ({ source: { file, line: 1, col: 1 } }) as PolicyDocument;
const layer = (document: string, block: unknown): SettingsLayer => ({ document, source: source(`${document}.yaml`), block: block as SettingsBlock });

/** The settings part spelled out the slow, obvious way: the oracle for the hand-written text. */
function expectedJson({ settings, history }: MergedSettings): string {
  const provenance: Record<string, unknown> = {};
  for (const [key, assignments] of history) {
    const { layer: winner } = assignments.at(-1)!;
    provenance[key] = winner.source ? { document: winner.document, file: winner.source.source.file } : { document: winner.document };
  }
  return canonicalJson({ provenance, settings });
}

const location = mergeSettings([defaultsLayer(), layer('Location/acme/paris', { agent: { interval_seconds: 900 }, logging: { level: 'warn' } })]);

test('the settings part text is the canonical JSON of settings and provenance', () => {
  assert.equal(serializeSettings(location).json, expectedJson(location));
});

const OVERRIDES: Array<[string, unknown]> = [
  ['one leaf', { agent: { interval_seconds: 300 } }],
  ['leaves in two sections, one a default', { agent: { interval_seconds: 300, heartbeat_seconds: 5 }, logging: { level: 'debug' } }],
  ['a string with characters JSON escapes', { logging: { level: 'line\n"quoted"\u2028' } }],
  ['undefined values are skipped', { agent: { interval_seconds: undefined, jitter_seconds: 1 } }],
  ['a leaf the base lacks', { agent: { new_key: 1 } }],
  ['a section the base lacks', { extra: { a: [1, 2] } }],
  ['a scalar replacing a section', { choco: false }],
  ['an object replacing a leaf', { agent: { interval_seconds: { nested: 1 } } }],
  ['an empty section', { agent: {} }],
  ['an empty object replacing a leaf', { agent: { interval_seconds: {} } }],
  ['an array leaf', { reporting: { retry_max_attempts: [3, 2, 1] } }],
];

for (const [name, block] of OVERRIDES) {
  test(`an override layer (${name}) spliced onto its location equals merging it and serializing anew`, () => {
    const override = layer('AgentOverride/kiosk', block);
    const merged = mergeSettings([override], location);
    assert.equal(overlaySettingsJson(serializeSettings(location), override), expectedJson(merged));
  });
}

test('merging onto an earlier result leaves that result as it was', () => {
  const before = structuredClone(location.settings);
  const historyBefore = new Map([...location.history].map(([key, list]) => [key, [...list]]));
  mergeSettings([layer('AgentOverride/kiosk', { agent: { interval_seconds: 1 }, choco: false })], location);
  assert.deepEqual(location.settings, before);
  assert.deepEqual(location.history, historyBefore);
});

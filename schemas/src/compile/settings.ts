// Effective settings: schema defaults ← Settings ← Organization ← Location ← AgentOverride, deep-merged
// (objects merge, scalars and arrays replace). Every leaf remembers each layer that set it, so the
// compiler can name the winner and `explain` can show who was overridden.
import type { AgentIdentity, DesiredState, Policy, PolicyDocument, SettingsBlock } from '../model.ts';
import { settingsDefaults } from '../json-schema.ts';
import { compareText } from './compare.ts';

export type EffectiveSettings = DesiredState['settings'];

/** One layer of the merge: the document that holds a `settings:` block (none for schema defaults). */
export interface SettingsLayer {
  /** "Kind/id", or "default". */
  document: string;
  source?: PolicyDocument;
  block: SettingsBlock;
}

/** One assignment of a leaf by a layer, in merge order. */
export interface LeafAssignment {
  value: unknown;
  layer: SettingsLayer;
}

export interface MergedSettings {
  settings: EffectiveSettings;
  /** Per dotted leaf key, every layer that set it, earliest first; the last one wins. */
  history: Map<string, LeafAssignment[]>;
}

export const DEFAULT_DOCUMENT = 'default';

/** The AgentOverride for this agent: `spec.agent` names it and its optional scope contains it. When
 * several do (validation refuses overlapping scopes, but compile must not depend on that), the most
 * narrowly scoped wins, then the first by name. */
export function applicableOverride(policy: Policy, agent: AgentIdentity): PolicyDocument<'AgentOverride'> | undefined {
  const locationKey = `${agent.organization}/${agent.location}`;
  const candidates = overridesFor(policy, agent.name).filter(
    (o) =>
      (o.spec.organization === undefined || o.spec.organization === agent.organization) &&
      (o.spec.location === undefined || o.spec.location === locationKey),
  );
  if (candidates.length < 2) return candidates[0];
  const narrowness = (o: PolicyDocument<'AgentOverride'>) => (o.spec.location ? 2 : o.spec.organization ? 1 : 0);
  candidates.sort((a, b) => narrowness(b) - narrowness(a) || compareText(a.id, b.id));
  return candidates[0];
}

// Indexed once per loaded (immutable) Policy: the server looks up every agent of the fleet.
const overridesByPolicy = new WeakMap<Policy, Map<string, Array<PolicyDocument<'AgentOverride'>>>>();

function overridesFor(policy: Policy, agentName: string): Array<PolicyDocument<'AgentOverride'>> {
  let byAgent = overridesByPolicy.get(policy);
  if (!byAgent) {
    byAgent = new Map();
    for (const override of policy.overrides.values()) byAgent.set(override.spec.agent, [...(byAgent.get(override.spec.agent) ?? []), override]);
    overridesByPolicy.set(policy, byAgent);
  }
  return byAgent.get(agentName) ?? [];
}

/** The layers that apply to `agent`, in merge order, schema defaults first. */
export function settingsLayers(policy: Policy, agent: AgentIdentity): SettingsLayer[] {
  const documents: Array<PolicyDocument | undefined> = [
    policy.settings,
    policy.organizations.get(agent.organization),
    policy.locations.get(`${agent.organization}/${agent.location}`),
    applicableOverride(policy, agent),
  ];
  return [defaultsLayer(), ...layersOf(documents)];
}

export function defaultsLayer(): SettingsLayer {
  return { document: DEFAULT_DOCUMENT, block: settingsDefaults() };
}

/** The settings layers of these documents, skipping absent ones and those without a `settings:` block. */
export function layersOf(documents: Array<PolicyDocument | undefined>): SettingsLayer[] {
  const layers: SettingsLayer[] = [];
  for (const source of documents) {
    const block = (source?.spec as { settings?: SettingsBlock } | undefined)?.settings;
    if (source && block) layers.push({ document: `${source.kind}/${source.id}`, source, block });
  }
  return layers;
}

/** Merges `layers` in order, on top of an earlier result when given. The earlier result is left
 * untouched and shares every object the new layers do not write into (copy on write), so a compiler
 * can keep the organization and location merges, build each override on them cheaply, and
 * serialize the untouched sections once. Treat the result as immutable. */
export function mergeSettings(layers: SettingsLayer[], onto?: MergedSettings): MergedSettings {
  const settings = { ...onto?.settings } as Record<string, unknown>;
  const history = new Map(onto?.history);
  const owned = new Set<object>([settings]);
  for (const layer of layers) mergeInto(settings, layer.block as Record<string, unknown>, '', { layer, history, owned });
  return { settings: settings as EffectiveSettings, history };
}

interface MergeState {
  layer: SettingsLayer;
  history: Map<string, LeafAssignment[]>;
  /** Objects created by this merge, which it may write into; any other is shared and copied first. */
  owned: Set<object>;
}

function mergeInto(target: Record<string, unknown>, source: Record<string, unknown>, prefix: string, state: MergeState): void {
  const { layer, history, owned } = state;
  for (const [key, value] of Object.entries(source)) {
    if (value === undefined) continue;
    const path = prefix + key;
    const existing = target[key];
    if (isPlainObject(value)) {
      // An object replacing a scalar or array drops that leaf from the history.
      if (existing !== undefined && !isPlainObject(existing)) forgetBelow(history, path, true);
      if (!isPlainObject(existing) || !owned.has(existing)) {
        target[key] = isPlainObject(existing) ? { ...existing } : {};
        owned.add(target[key] as object);
      }
      mergeInto(target[key] as Record<string, unknown>, value, `${path}.`, state);
    } else {
      // A scalar or array replacing an object drops the object's leaves from the history.
      if (isPlainObject(existing)) forgetBelow(history, path, false);
      target[key] = typeof value === 'object' ? structuredClone(value) : value;
      // A new array: the lists may be shared with the merge this one was built on.
      history.set(path, [...(history.get(path) ?? []), { value, layer }]);
    }
  }
}

function forgetBelow(history: Map<string, LeafAssignment[]>, path: string, includingSelf: boolean): void {
  for (const key of [...history.keys()]) {
    if (key.startsWith(`${path}.`) || (includingSelf && key === path)) history.delete(key);
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

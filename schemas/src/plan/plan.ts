// What a change of policy does, computed from two revisions alone: which documents were added,
// changed or removed, and for each agent group which scripts, external facts, packages and
// settings it gains, loses or sees change. Pure, so CI can run it offline on a checkout.
import type { AgentIdentity, CompiledPackage, DesiredState, Kind, Policy, Targets } from '../model.ts';
import { KINDS } from '../model.ts';
import { matchTargets } from '../targets.ts';
import { canonicalJson } from '../canonical-json.ts';
import { compileState } from '../compile/compile-group.ts';
import { compareText } from '../compile/compare.ts';
import { inventory, policyDocuments } from './inventory.ts';
import { planGroups, type PlanGroup } from './groups.ts';

export interface ObjectRef {
  kind: Kind;
  id: string;
  file: string;
}

export interface NamedChanges {
  added: string[];
  removed: string[];
  changed: string[];
}

export interface GroupChange {
  scope: string;
  /** added/removed: the group's location exists on one side only. */
  status: 'added' | 'removed' | 'changed';
  scripts: NamedChanges;
  external_facts: NamedChanges;
  packages: { added: string[]; removed: string[]; changed: Array<{ name: string; from: CompiledPackage; to: CompiledPackage }> };
  /** Values are null where the key is absent on that side. */
  settings: Array<{ key: string; from: unknown; to: unknown }>;
}

export interface Plan {
  objects: { added: ObjectRef[]; changed: ObjectRef[]; removed: ObjectRef[] };
  groups: GroupChange[];
  /** Objects selected by facts ("Kind/id" → selector): groups are planned as if the facts match. */
  fact_selected: Array<{ document: string; facts: NonNullable<Targets['facts']> }>;
}

export function planChanges(base: Policy, head: Policy): Plan {
  return { objects: diffObjects(base, head), groups: diffGroups(base, head), fact_selected: factSelected(base, head) };
}

/** The plan cannot know agents' facts, so it shows what happens to those whose facts match. */
function assumingFactsMatch(targets: Targets | undefined, agent: AgentIdentity) {
  return matchTargets(targets && { ...targets, facts: undefined }, agent);
}

function diffObjects(base: Policy, head: Policy): Plan['objects'] {
  const before = inventory(base);
  const after = inventory(head);
  const ref = ({ kind, id, file }: ObjectRef): ObjectRef => ({ kind, id, file });
  const objects: Plan['objects'] = { added: [], changed: [], removed: [] };
  for (const [key, entry] of after) {
    const previous = before.get(key);
    if (!previous) objects.added.push(ref(entry));
    else if (previous.sha256 !== entry.sha256) objects.changed.push(ref(entry));
  }
  for (const [key, entry] of before) if (!after.has(key)) objects.removed.push(ref(entry));
  const order = (a: ObjectRef, b: ObjectRef) => KINDS.indexOf(a.kind) - KINDS.indexOf(b.kind) || compareText(a.id, b.id);
  for (const list of Object.values(objects)) list.sort(order);
  return objects;
}

function diffGroups(base: Policy, head: Policy): GroupChange[] {
  const changes: GroupChange[] = [];
  for (const group of planGroups(base, head)) {
    const change = diffGroup(group, group.inBase ? compileState(base, group.agent, assumingFactsMatch) : null, group.inHead ? compileState(head, group.agent, assumingFactsMatch) : null);
    if (change) changes.push(change);
  }
  return changes;
}

function diffGroup(group: PlanGroup, from: DesiredState | null, to: DesiredState | null): GroupChange | null {
  const change: GroupChange = {
    scope: group.scope,
    status: from && to ? 'changed' : to ? 'added' : 'removed',
    scripts: diffNamed(from?.scripts ?? [], to?.scripts ?? []),
    external_facts: diffNamed(from?.external_facts ?? [], to?.external_facts ?? []),
    packages: diffPackages(from?.packages ?? [], to?.packages ?? []),
    settings: diffSettings(from, to),
  };
  const empty =
    change.status === 'changed' &&
    [change.scripts, change.external_facts].every((c) => !c.added.length && !c.removed.length && !c.changed.length) &&
    !change.packages.added.length && !change.packages.removed.length && !change.packages.changed.length &&
    !change.settings.length;
  return empty ? null : change;
}

function diffNamed<T extends { name: string }>(from: T[], to: T[]): NamedChanges {
  const before = new Map(from.map((item) => [item.name, canonicalJson(item)]));
  const after = new Map(to.map((item) => [item.name, canonicalJson(item)]));
  return {
    added: [...after.keys()].filter((name) => !before.has(name)).sort(compareText),
    removed: [...before.keys()].filter((name) => !after.has(name)).sort(compareText),
    changed: [...after.keys()].filter((name) => before.has(name) && before.get(name) !== after.get(name)).sort(compareText),
  };
}

function diffPackages(from: CompiledPackage[], to: CompiledPackage[]): GroupChange['packages'] {
  const named = diffNamed(from, to);
  const byName = (list: CompiledPackage[], name: string) => list.find((p) => p.name === name)!;
  return { added: named.added, removed: named.removed, changed: named.changed.map((name) => ({ name, from: byName(from, name), to: byName(to, name) })) };
}

/** For a group on both sides, every key whose value differs; for a group that appears or
 * disappears, only the keys its own Location or AgentOverride sets (the rest is shared with every
 * other group and would bury them). */
function diffSettings(from: DesiredState | null, to: DesiredState | null): GroupChange['settings'] {
  const before = from ? leaves(from) : new Map<string, unknown>();
  const after = to ? leaves(to) : new Map<string, unknown>();
  const oneSided = from ?? to;
  const keys = [...new Set([...before.keys(), ...after.keys()])].sort(compareText);
  const diffs: GroupChange['settings'] = [];
  for (const key of keys) {
    if (!(from && to) && !/^(Location|AgentOverride)\//.test(oneSided!.provenance[key]?.document ?? '')) continue;
    const a = before.has(key) ? before.get(key) : null;
    const b = after.has(key) ? after.get(key) : null;
    if (canonicalJson(a) !== canonicalJson(b)) diffs.push({ key, from: a, to: b });
  }
  return diffs;
}

function leaves(state: DesiredState): Map<string, unknown> {
  const values = new Map<string, unknown>();
  const visit = (node: unknown, prefix: string) => {
    if (node !== null && typeof node === 'object' && !Array.isArray(node)) {
      for (const [key, value] of Object.entries(node)) visit(value, prefix ? `${prefix}.${key}` : key);
    } else values.set(prefix, node);
  };
  visit(state.settings, '');
  return values;
}

function factSelected(base: Policy, head: Policy): Plan['fact_selected'] {
  const selected = new Map<string, NonNullable<Targets['facts']>>();
  for (const policy of [base, head]) {
    for (const document of policyDocuments(policy)) {
      const facts = (document.spec as { targets?: Targets }).targets?.facts;
      if (facts && Object.keys(facts).length) selected.set(`${document.kind}/${document.id}`, facts);
    }
  }
  return [...selected.keys()].sort(compareText).map((document) => ({ document, facts: selected.get(document)! }));
}

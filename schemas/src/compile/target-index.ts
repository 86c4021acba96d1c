// Targeted objects filed by what their targets name, so the objects that may apply to an agent are
// found by four lookups instead of a scan of the whole policy: those naming no one (every agent),
// its organization, its location, or its name. Fact selectors are left to the matcher: an object
// with `facts` is filed like any other and asked about only when one of its lists names the agent.
import type { AgentIdentity, Targets } from '../model.ts';

export interface TargetIndex<T> {
  all: T[];
  byOrganization: Map<string, T[]>;
  byLocation: Map<string, T[]>; // "org/location"
  byAgent: Map<string, T[]>;
}

export function indexByTargets<T>(items: Iterable<T>, targetsOf: (item: T) => Targets | undefined): TargetIndex<T> {
  const index: TargetIndex<T> = { all: [], byOrganization: new Map(), byLocation: new Map(), byAgent: new Map() };
  for (const item of items) {
    const { organizations = [], locations = [], agents = [] } = targetsOf(item) ?? {};
    if (!organizations.length && !locations.length && !agents.length) index.all.push(item);
    // A list naming the same key twice must not file the item twice.
    for (const name of new Set(organizations)) fileUnder(index.byOrganization, name, item);
    for (const key of new Set(locations)) fileUnder(index.byLocation, key, item);
    for (const name of new Set(agents)) fileUnder(index.byAgent, name, item);
  }
  return index;
}

/** The items that may select `agent`, each once; the matcher has the last word. */
export function candidatesFor<T>(index: TargetIndex<T>, agent: AgentIdentity): Set<T> {
  return new Set([
    ...index.all,
    ...(index.byOrganization.get(agent.organization) ?? []),
    ...(index.byLocation.get(`${agent.organization}/${agent.location}`) ?? []),
    ...(index.byAgent.get(agent.name) ?? []),
  ]);
}

export function fileUnder<K, T>(map: Map<K, T[]>, key: K, item: T): void {
  const list = map.get(key);
  if (list) list.push(item);
  else map.set(key, [item]);
}

// Which agents a Script, ExternalFact or ChocoDeployment applies to, and how specifically.
// organizations / locations / agents are OR'ed (none given = every agent); `facts` narrows further.
import type { AgentIdentity, Targets } from './model.ts';

/** Higher wins when two ChocoDeployments declare the same package for one agent. */
export const SPECIFICITY = { all: 0, organization: 1, location: 2, agent: 3 } as const;
export type Specificity = keyof typeof SPECIFICITY;

/** How specifically `targets` selects `agent`, or null when it does not select it. */
export function matchTargets(targets: Targets | undefined, agent: AgentIdentity): Specificity | null {
  if (targets?.facts && !factsMatch(targets.facts, agent.facts ?? {})) return null;
  const { organizations, locations, agents } = targets ?? {};
  if (!organizations?.length && !locations?.length && !agents?.length) return 'all';
  if (agents?.includes(agent.name)) return 'agent';
  if (locations?.includes(`${agent.organization}/${agent.location}`)) return 'location';
  if (organizations?.includes(agent.organization)) return 'organization';
  return null;
}

/** Every fact path must hold the value (or one of the listed values); compared as strings so a
 * YAML `10` matches a fact reported as "10". */
export function factsMatch(selector: NonNullable<Targets['facts']>, facts: Record<string, unknown>): boolean {
  return Object.entries(selector).every(([path, wanted]) => {
    const actual = factAt(facts, path);
    if (actual === undefined || actual === null || typeof actual === 'object') return false;
    const values = Array.isArray(wanted) ? wanted : [wanted];
    return values.some((value) => String(value) === String(actual));
  });
}

/** Reads a dotted fact path ("os.family") from nested facts; a flat key with dots wins. */
export function factAt(facts: Record<string, unknown>, path: string): unknown {
  if (path in facts) return facts[path];
  let node: unknown = facts;
  for (const part of path.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/** The fact paths a selector reads: agents that agree on these share one compiled document. */
export function factPathsOf(targets: Targets | undefined): string[] {
  return Object.keys(targets?.facts ?? {});
}

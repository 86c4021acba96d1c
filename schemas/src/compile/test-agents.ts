// Agents for property-style compiler tests: every location of a policy (as a nameless agent and as
// agents with facts), every agent an AgentOverride or a target names, placed in and out of their
// scope, with fact variants that selectors tell apart. Deterministic for a given policy.
import type { AgentIdentity, Policy } from '../model.ts';
import { agentsNamedByTargets } from './group-key.ts';

const FACT_VARIANTS: Array<Record<string, unknown>> = [
  {},
  { os: { family: 'windows', release: '10.0.22631' } },
  { os: { family: 'linux' }, cpu: { arch: 'x64' } },
  { 'os.family': 'windows', hostname: 'flat-key' },
];

export function sampleAgents(policy: Policy): AgentIdentity[] {
  const locations = [...policy.locations.values()].map((l) => ({ organization: l.spec.organization, location: l.metadata.name }));
  const agents: AgentIdentity[] = [];
  locations.forEach((place, i) => {
    agents.push({ name: '', ...place, facts: {} });
    agents.push({ name: `plain-${i}`, ...place, facts: FACT_VARIANTS[i % FACT_VARIANTS.length] });
  });
  const named = new Set([...[...policy.overrides.values()].map((o) => o.spec.agent), ...agentsNamedByTargets(policy)]);
  [...named].sort().forEach((name, i) => {
    const override = [...policy.overrides.values()].find((o) => o.spec.agent === name);
    const home = override?.spec.location?.split('/');
    const place = home ? { organization: home[0], location: home.slice(1).join('/') } : locations[i % locations.length];
    agents.push({ name, ...place, facts: FACT_VARIANTS[i % FACT_VARIANTS.length] });
    // The same agent somewhere else: its override's scope guard must leave it out there.
    const elsewhere = locations[(i * 7 + 3) % locations.length];
    if (elsewhere) agents.push({ name, ...elsewhere, facts: FACT_VARIANTS[(i + 1) % FACT_VARIANTS.length] });
  });
  return agents;
}

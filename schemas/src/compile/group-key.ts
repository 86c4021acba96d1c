// Agents that agree on everything the compiler reads share one compiled document. The compiler reads
// an agent's organization and location, its AgentOverride, its name only where a target lists it,
// and the facts that selectors test. The key holds exactly those, so equal keys ⇒ identical
// documents, and thousands of agents collapse into a handful of groups.
import type { AgentIdentity, Policy } from '../model.ts';
import { compilerFor } from './compiler.ts';

export { agentsNamedByTargets, referencedFactPaths, targetedDocuments } from './selectors.ts';

/** The group key of `agent` under `policy`; the server keys the whole fleet against one policy, so
 * what the selectors read is indexed once per policy (see createCompiler). */
export function groupKey(policy: Policy, agent: AgentIdentity): string {
  return compilerFor(policy).groupKey(agent);
}

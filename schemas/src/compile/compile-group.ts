// The desired state of one group of agents: effective settings with provenance, the scripts,
// external facts and packages that apply, and any unresolvable package conflicts. Pure: the same
// policy and the same group key always give the same bytes and the same sha256. Both functions
// here assemble the parts the policy's compiler made (compiler.ts), so there is one compile path.
import type { AgentIdentity, CompiledDocument, DesiredState, Policy } from '../model.ts';
import { assembleDocument } from './assemble.ts';
import { compilerFor } from './compiler.ts';
import type { TargetMatcher } from './scripts.ts';

export function compileGroup(policy: Policy, agent: AgentIdentity, matches?: TargetMatcher): CompiledDocument {
  const { settings, resources } = compilerFor(policy, matches).compileParts(agent);
  return assembleDocument(settings.json, resources.json, policyContents(policy));
}

/** The state alone; `matches` lets the planner assume fact selectors match. */
export function compileState(policy: Policy, agent: AgentIdentity, matches: TargetMatcher): DesiredState {
  return compileGroup(policy, agent, matches).state;
}

const contentsByPolicy = new WeakMap<Policy, Map<string, string>>();

/** Looks up the policy's resolved contents by sha256, indexed once per policy. */
export function policyContents(policy: Policy): (sha256: string) => string | undefined {
  let bySha = contentsByPolicy.get(policy);
  if (!bySha) {
    bySha = new Map([...policy.contents.values()].map((resolved) => [resolved.sha256, resolved.content]));
    contentsByPolicy.set(policy, bySha);
  }
  return (sha256) => bySha.get(sha256);
}

// The desired state of one group of agents: effective settings with provenance, the scripts,
// external facts and packages that apply, and any unresolvable package conflicts. Pure: the same
// policy and the same group key always give the same bytes and the same sha256.
import type { AgentIdentity, CompiledDocument, DesiredState, Policy } from '../model.ts';
import { API_VERSION } from '../model.ts';
import { matchTargets } from '../targets.ts';
import { canonicalJson, sha256Hex } from '../canonical-json.ts';
import { mergeSettings, settingsLayers } from './settings.ts';
import { compileExternalFacts, compileScripts, type TargetMatcher } from './scripts.ts';
import { compilePackages } from './packages.ts';

export function compileGroup(policy: Policy, agent: AgentIdentity): CompiledDocument {
  return documentOf(compileState(policy, agent, matchTargets));
}

/** The state before hashing; `matches` lets the planner assume fact selectors match. */
export function compileState(policy: Policy, agent: AgentIdentity, matches: TargetMatcher): DesiredState {
  const { settings, history } = mergeSettings(settingsLayers(policy, agent));
  // Provenance carries no line numbers: an edit that only moves lines must not change the hash.
  const provenance: DesiredState['provenance'] = {};
  for (const key of [...history.keys()].sort()) {
    const { layer } = history.get(key)!.at(-1)!;
    provenance[key] = layer.source ? { document: layer.document, file: layer.source.source.file } : { document: layer.document };
  }
  const { packages, conflicts } = compilePackages(policy, agent, matches);
  return {
    apiVersion: API_VERSION,
    settings,
    provenance,
    scripts: compileScripts(policy, agent, settings, matches),
    packages,
    external_facts: compileExternalFacts(policy, agent, settings, matches),
    conflicts,
  };
}

export function documentOf(state: DesiredState): CompiledDocument {
  const json = canonicalJson(state);
  return { state, json, sha256: sha256Hex(json) };
}

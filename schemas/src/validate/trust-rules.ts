// Warnings about who can make an agent run a script. Every script runs with the agent's own rights
// (root or SYSTEM), and facts other than `trusted.*` are whatever the agent reports: targets that
// select only by such facts let any enrolled agent, by reporting them, obtain the script (and its
// content). Organizations, locations, agent names and `trusted.*` facts are set by the server.
import type { PolicyDocument, PolicyError, Targets } from '../model.ts';
import { policyError } from '../errors.ts';
import { nameOf } from './checks.ts';

export const TRUSTED_FACT_PREFIX = 'trusted.';

/** True when `targets` picks agents by agent-reported facts alone. Pure. */
export function selectsOnlyByAssertedFacts(targets: Targets | undefined): boolean {
  if (!targets?.facts || Object.keys(targets.facts).length === 0) return false;
  const named = [targets.organizations, targets.locations, targets.agents].some((list) => list && list.length > 0);
  return !named && !Object.keys(targets.facts).some((path) => path.startsWith(TRUSTED_FACT_PREFIX));
}

export function untrustedSelectionWarnings(documents: readonly PolicyDocument[]): PolicyError[] {
  const warnings: PolicyError[] = [];
  for (const document of documents) {
    if (document.kind !== 'Script' && document.kind !== 'ExternalFact') continue;
    const targets = (document as PolicyDocument<'Script' | 'ExternalFact'>).spec.targets;
    if (!selectsOnlyByAssertedFacts(targets)) continue;
    const facts = Object.keys(targets!.facts!).join(', ');
    warnings.push(policyError('UNTRUSTED_SELECTION', `${nameOf(document)} runs as the agent's account (root/SYSTEM) on every agent that reports ${facts}; agents assert these facts themselves, so any enrolled agent can obtain it. Add organizations, locations or agents to the targets, or select on a trusted.* fact`, document.positionOf(['spec', 'targets', 'facts'])));
  }
  return warnings;
}

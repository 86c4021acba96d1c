// Which Chocolatey packages an agent gets: per package name, the declaration of the matching
// ChocoDeployment with the highest specificity (agent > location > organization > all). Two
// deployments at that same specificity that declare the package differently cannot be resolved:
// the package is left out and reported as a conflict. Validation catches most of these, but
// deployments selected by facts only meet on a real agent, so compile must handle them too.
import type { AgentIdentity, CompiledPackage, DesiredState, PackageDeclaration, Policy } from '../model.ts';
import { SPECIFICITY } from '../targets.ts';
import { canonicalJson } from '../canonical-json.ts';
import { compareText } from './compare.ts';
import type { TargetMatcher } from './scripts.ts';

interface Candidate {
  rank: number;
  deployment: string;
  declaration: Omit<CompiledPackage, 'deployment'>;
}

export function compilePackages(
  policy: Policy,
  agent: AgentIdentity,
  matches: TargetMatcher,
): { packages: CompiledPackage[]; conflicts: DesiredState['conflicts'] } {
  const candidatesByName = new Map<string, Candidate[]>();
  for (const deployment of policy.chocoDeployments.values()) {
    const specificity = matches(deployment.spec.targets, agent);
    if (specificity === null) continue;
    for (const declared of deployment.spec.packages) {
      const candidates = candidatesByName.get(declared.name) ?? [];
      candidates.push({ rank: SPECIFICITY[specificity], deployment: deployment.id, declaration: normalizePackage(declared) });
      candidatesByName.set(declared.name, candidates);
    }
  }

  const packages: CompiledPackage[] = [];
  const conflicts: DesiredState['conflicts'] = [];
  for (const name of [...candidatesByName.keys()].sort(compareText)) {
    const candidates = candidatesByName.get(name)!;
    const top = Math.max(...candidates.map((c) => c.rank));
    const winners = candidates.filter((c) => c.rank === top).sort((a, b) => compareText(a.deployment, b.deployment));
    const distinct = new Set(winners.map((c) => canonicalJson(c.declaration)));
    if (distinct.size > 1) {
      conflicts.push({ package: name, documents: winners.map((c) => `ChocoDeployment/${c.deployment}`) });
      continue;
    }
    // Identical declarations agree; the first deployment by name is credited so the document is stable.
    packages.push({ ...winners[0].declaration, deployment: winners[0].deployment });
  }
  return { packages, conflicts };
}

function normalizePackage(declared: PackageDeclaration): Omit<CompiledPackage, 'deployment'> {
  return {
    name: declared.name,
    ensure: declared.ensure ?? 'present',
    ...(declared.version !== undefined ? { version: declared.version } : {}),
    pin: declared.pin ?? false,
    ...(declared.source !== undefined ? { source: declared.source } : {}),
    ...(declared.install_args !== undefined ? { install_args: declared.install_args } : {}),
    ...(declared.timeout_seconds !== undefined ? { timeout_seconds: declared.timeout_seconds } : {}),
  };
}

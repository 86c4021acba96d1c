// Which Chocolatey packages an agent gets: per package name, the declaration of the matching
// ChocoDeployment with the highest specificity (agent > location > organization > all). Two
// deployments at that same specificity that declare the package differently cannot be resolved:
// the package is left out and reported as a conflict. Validation catches most of these, but
// deployments selected by facts only meet on a real agent, so compile must handle them too.
import type { CompiledPackage, DesiredState, PackageDeclaration, PolicyDocument } from '../model.ts';
import { canonicalJson } from '../canonical-json.ts';
import { compareText } from './compare.ts';

/** One declaration of a deployment, normalized once per policy, with its canonical JSON (as the
 * compiled package, and without the crediting deployment, to tell agreeing declarations apart). */
export interface PreparedPackage {
  package: CompiledPackage;
  json: string;
  declarationJson: string;
}

/** A deployment that selects the agent, with the rank of its specificity (SPECIFICITY). */
export interface MatchedDeployment {
  rank: number;
  packages: PreparedPackage[];
}

export function preparePackages(deployment: PolicyDocument<'ChocoDeployment'>): PreparedPackage[] {
  return deployment.spec.packages.map((declared) => {
    const declaration = normalizePackage(declared);
    const compiled = { ...declaration, deployment: deployment.id };
    return { package: compiled, json: canonicalJson(compiled), declarationJson: canonicalJson(declaration) };
  });
}

export function resolvePackages(matched: MatchedDeployment[]): { packages: PreparedPackage[]; conflicts: DesiredState['conflicts'] } {
  const candidatesByName = new Map<string, Array<{ rank: number; prepared: PreparedPackage }>>();
  for (const { rank, packages } of matched) {
    for (const prepared of packages) {
      const candidates = candidatesByName.get(prepared.package.name) ?? [];
      candidates.push({ rank, prepared });
      candidatesByName.set(prepared.package.name, candidates);
    }
  }

  const packages: PreparedPackage[] = [];
  const conflicts: DesiredState['conflicts'] = [];
  for (const name of [...candidatesByName.keys()].sort(compareText)) {
    const candidates = candidatesByName.get(name)!;
    const top = Math.max(...candidates.map((c) => c.rank));
    const winners = candidates
      .filter((c) => c.rank === top)
      .map((c) => c.prepared)
      .sort((a, b) => compareText(a.package.deployment, b.package.deployment));
    if (new Set(winners.map((w) => w.declarationJson)).size > 1) {
      conflicts.push({ package: name, documents: winners.map((w) => `ChocoDeployment/${w.package.deployment}`) });
      continue;
    }
    // Identical declarations agree; the first deployment by name is credited so the document is stable.
    packages.push(winners[0]);
  }
  return { packages, conflicts };
}

/** Defaults filled, fields in one order (assembleDocument reuses it to restore that order). */
export function normalizePackage(declared: PackageDeclaration): Omit<CompiledPackage, 'deployment'> {
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

// Package declarations: once per deployment, and never declared two ways for the same agents at
// the same specificity (the compiler could not say which one wins).
import { policyError } from '../errors.ts';
import type { PackageDeclaration, PolicyDocument, PolicyError, Targets } from '../model.ts';
import type { Specificity } from '../targets.ts';
import { lineOf, nameOf, ofKind } from './checks.ts';
import type { CheckContext } from './checks.ts';

type Deployment = PolicyDocument<'ChocoDeployment'>;

export function checkPackages({ documents }: CheckContext): PolicyError[] {
  const deployments = ofKind(documents, 'ChocoDeployment');
  return [...deployments.flatMap(checkDuplicatePackages), ...checkConflicts(deployments)];
}

/** Chocolatey package ids are case-insensitive. */
function packageKey(name: string): string {
  return name.toLowerCase();
}

function checkDuplicatePackages(deployment: Deployment): PolicyError[] {
  const firstIndex = new Map<string, number>();
  const errors: PolicyError[] = [];
  deployment.spec.packages.forEach((declaration, i) => {
    const key = packageKey(declaration.name);
    const first = firstIndex.get(key);
    if (first === undefined) {
      firstIndex.set(key, i);
      return;
    }
    const earlier = deployment.positionOf(['spec', 'packages', first, 'name']);
    const message = `${nameOf(deployment)} lists package "${declaration.name}" twice (first at ${lineOf(earlier)}); keep one entry`;
    errors.push(policyError('PACKAGE_DUPLICATE', message, deployment.positionOf(['spec', 'packages', i, 'name'])));
  });
  return errors;
}

interface Declared {
  deployment: Deployment;
  index: number;
}

function checkConflicts(deployments: Deployment[]): PolicyError[] {
  const byPackage = new Map<string, Declared[]>();
  const errors: PolicyError[] = [];
  for (const deployment of deployments) {
    const seen = new Set<string>(); // a duplicate within the deployment is reported on its own
    deployment.spec.packages.forEach((declaration, index) => {
      const key = packageKey(declaration.name);
      if (seen.has(key)) return;
      seen.add(key);
      const earlierOnes = byPackage.get(key) ?? [];
      const conflict = earlierOnes.find((earlier) => conflictBetween(earlier, { deployment, index }) !== undefined);
      earlierOnes.push({ deployment, index });
      byPackage.set(key, earlierOnes);
      if (conflict) errors.push(conflictError(conflict, { deployment, index }));
    });
  }
  return errors;
}

function declarationOf({ deployment, index }: Declared): PackageDeclaration {
  return deployment.spec.packages[index];
}

function conflictBetween(earlier: Declared, later: Declared): string | undefined {
  if (sameDeclaration(declarationOf(earlier), declarationOf(later))) return undefined;
  return sharedSpecificity(earlier.deployment.spec.targets, later.deployment.spec.targets);
}

function conflictError(earlier: Declared, later: Declared): PolicyError {
  const positionOf = ({ deployment, index }: Declared) => deployment.positionOf(['spec', 'packages', index, 'name']);
  const laterAt = positionOf(later);
  const message =
    `package "${declarationOf(later).name}" is declared differently by ${nameOf(earlier.deployment)} (${lineOf(positionOf(earlier))}) ` +
    `and ${nameOf(later.deployment)} (${lineOf(laterAt)}) for the same agents (${conflictBetween(earlier, later)}) at the same specificity; ` +
    'make the declarations equal, or target one of them more specifically';
  return policyError('PACKAGE_CONFLICT', message, laterAt);
}

function sameDeclaration(a: PackageDeclaration, b: PackageDeclaration): boolean {
  const normal = (p: PackageDeclaration) => [p.ensure ?? 'present', p.version ?? null, p.pin ?? false, p.source ?? null, p.install_args ?? null];
  return JSON.stringify(normal(a)) === JSON.stringify(normal(b));
}

/** Describes agents both target sets select at the same specificity, or undefined when there
 * are none that can be known statically. Facts selectors depend on the agents, so deployments
 * with one are left to the compiler, which reports the conflict per agent. */
function sharedSpecificity(a: Targets | undefined, b: Targets | undefined): string | undefined {
  if (a?.facts || b?.facts) return undefined;
  const untargeted = (t: Targets | undefined) => !t?.organizations?.length && !t?.locations?.length && !t?.agents?.length;
  if (untargeted(a) && untargeted(b)) return 'every agent';
  // Most specific first, as matchTargets decides.
  const levels: Array<[Exclude<Specificity, 'all'>, 'agents' | 'locations' | 'organizations']> = [
    ['agent', 'agents'],
    ['location', 'locations'],
    ['organization', 'organizations'],
  ];
  for (const [level, key] of levels) {
    const ours = new Set(a?.[key] ?? []);
    const common = (b?.[key] ?? []).filter((value) => ours.has(value));
    if (common.length > 0) return `${level} ${common.join(', ')}`;
  }
  return undefined;
}

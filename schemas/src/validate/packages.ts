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

function checkConflicts(deployments: Deployment[]): PolicyError[] {
  const errors: PolicyError[] = [];
  deployments.forEach((later, laterIndex) => {
    const reported = new Set<string>();
    later.spec.packages.forEach((declaration, i) => {
      const key = packageKey(declaration.name);
      if (reported.has(key)) return; // a duplicate within the deployment is reported on its own
      for (const earlier of deployments.slice(0, laterIndex)) {
        const other = earlier.spec.packages.find((candidate) => packageKey(candidate.name) === key);
        if (!other || sameDeclaration(other, declaration)) continue;
        const shared = sharedSpecificity(earlier.spec.targets, later.spec.targets);
        if (!shared) continue;
        reported.add(key);
        const laterAt = later.positionOf(['spec', 'packages', i, 'name']);
        const earlierAt = earlier.positionOf(['spec', 'packages', earlier.spec.packages.indexOf(other), 'name']);
        const message =
          `package "${declaration.name}" is declared differently by ${nameOf(earlier)} (${lineOf(earlierAt)}) and ${nameOf(later)} (${lineOf(laterAt)}) ` +
          `for the same agents (${shared}) at the same specificity; make the declarations equal, or target one of them more specifically`;
        errors.push(policyError('PACKAGE_CONFLICT', message, laterAt));
        break;
      }
    });
  });
  return errors;
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

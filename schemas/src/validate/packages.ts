// Package declarations: once per deployment, and never declared two ways for the same agents at
// the same specificity (the compiler could not say which one wins).
import { policyError } from '../errors.ts';
import type { PackageDeclaration, PolicyDocument, PolicyError, Targets } from '../model.ts';
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
  signature: string;
}

/** Each place a deployment selects agents at one specificity: "every agent", "organization acme",
 * "location acme/paris", "agent ws-001". Two declarations can only collide in a shared slot,
 * so indexing by slot keeps the check linear however many deployments repeat a package. */
function slotsOf(targets: Targets | undefined): string[] | undefined {
  // Facts selectors depend on the agents, so such deployments are left to the compiler, which
  // reports a conflict per compiled group.
  if (targets?.facts) return undefined;
  const slots = [
    ...(targets?.agents ?? []).map((name) => `agent ${name}`),
    ...(targets?.locations ?? []).map((name) => `location ${name}`),
    ...(targets?.organizations ?? []).map((name) => `organization ${name}`),
  ];
  return slots.length > 0 ? slots : ['every agent'];
}

function checkConflicts(deployments: Deployment[]): PolicyError[] {
  // package → slot → declaration signature → first declaration with it
  const declared = new Map<string, Map<string, Map<string, Declared>>>();
  const errors: PolicyError[] = [];
  for (const deployment of deployments) {
    const slots = slotsOf(deployment.spec.targets);
    if (!slots) continue;
    const seen = new Set<string>(); // a duplicate within the deployment is reported on its own
    deployment.spec.packages.forEach((declaration, index) => {
      const key = packageKey(declaration.name);
      if (seen.has(key)) return;
      seen.add(key);
      const later: Declared = { deployment, index, signature: signatureOf(declaration) };
      const bySlot = declared.get(key) ?? new Map<string, Map<string, Declared>>();
      declared.set(key, bySlot);
      let reported = false;
      for (const slot of slots) {
        const bySignature = bySlot.get(slot) ?? new Map<string, Declared>();
        bySlot.set(slot, bySignature);
        const earlier = [...bySignature.values()].find((other) => other.signature !== later.signature);
        if (earlier && !reported) {
          errors.push(conflictError(earlier, later, slot));
          reported = true;
        }
        if (!bySignature.has(later.signature)) bySignature.set(later.signature, later);
      }
    });
  }
  return errors;
}

function conflictError(earlier: Declared, later: Declared, slot: string): PolicyError {
  const positionOf = ({ deployment, index }: Declared) => deployment.positionOf(['spec', 'packages', index, 'name']);
  const laterAt = positionOf(later);
  const message =
    `package "${later.deployment.spec.packages[later.index].name}" is declared differently by ${nameOf(earlier.deployment)} (${lineOf(positionOf(earlier))}) ` +
    `and ${nameOf(later.deployment)} (${lineOf(laterAt)}) for the same agents (${slot}) at the same specificity; ` +
    'make the declarations equal, or target one of them more specifically';
  return policyError('PACKAGE_CONFLICT', message, laterAt);
}

/** What makes two declarations of a package the same; timeout_seconds does not change the outcome. */
function signatureOf(p: PackageDeclaration): string {
  return JSON.stringify([p.ensure ?? 'present', p.version ?? null, p.pin ?? false, p.source ?? null, p.install_args ?? null]);
}

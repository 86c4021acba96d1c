// One global Settings, unique names per kind, one AgentOverride per agent and scope.
import { policyError } from '../errors.ts';
import type { PolicyDocument, PolicyError } from '../model.ts';
import { lineOf, nameOf, ofKind } from './checks.ts';
import type { CheckContext } from './checks.ts';

export function checkUniqueNames({ documents }: CheckContext): PolicyError[] {
  return [...checkSingleSettings(documents), ...checkDuplicateNames(documents), ...checkOverrideScopes(documents)];
}

function checkSingleSettings(documents: PolicyDocument[]): PolicyError[] {
  const [first, ...others] = ofKind(documents, 'Settings');
  return others.map((settings) =>
    policyError(
      'MULTIPLE_SETTINGS',
      `a second Settings document "${settings.id}"; the global Settings is already defined by "${first.id}" at ${lineOf(first.source)}; merge them into one`,
      settings.source,
    ),
  );
}

function checkDuplicateNames(documents: PolicyDocument[]): PolicyError[] {
  const firstByIdentity = new Map<string, PolicyDocument>();
  const errors: PolicyError[] = [];
  for (const document of documents) {
    if (document.kind === 'Settings') continue; // reported as MULTIPLE_SETTINGS
    const identity = `${document.kind}/${document.id}`;
    const first = firstByIdentity.get(identity);
    if (!first) {
      firstByIdentity.set(identity, document);
      continue;
    }
    const at = document.positionOf(['metadata', 'name']);
    const scope = document.kind === 'Location' ? ` in organization "${(document as PolicyDocument<'Location'>).spec.organization}"` : '';
    const message = `duplicate ${nameOf(document)}${scope}: defined at ${lineOf(first.positionOf(['metadata', 'name']))} and again at ${lineOf(at)}; names must be unique per kind`;
    errors.push(policyError('DUPLICATE_NAME', message, at));
  }
  return errors;
}

/** Two overrides of one agent conflict unless their scope guards exclude each other. */
function checkOverrideScopes(documents: PolicyDocument[]): PolicyError[] {
  const byAgent = new Map<string, PolicyDocument<'AgentOverride'>[]>();
  const errors: PolicyError[] = [];
  for (const override of ofKind(documents, 'AgentOverride')) {
    const earlierOnes = byAgent.get(override.spec.agent) ?? [];
    const earlier = earlierOnes.find((other) => scopesOverlap(other.spec, override.spec));
    earlierOnes.push(override);
    byAgent.set(override.spec.agent, earlierOnes);
    if (!earlier) continue;
    const message = `AgentOverrides "${earlier.id}" (${lineOf(earlier.source)}) and "${override.id}" both apply to agent "${override.spec.agent}"; give each a different organization or location, or merge them`;
    errors.push(policyError('DUPLICATE_OVERRIDE', message, override.positionOf(['spec', 'agent'])));
  }
  return errors;
}

type OverrideScope = PolicyDocument<'AgentOverride'>['spec'];

function scopesOverlap(a: OverrideScope, b: OverrideScope): boolean {
  const organizationOf = (scope: OverrideScope) => scope.organization ?? scope.location?.split('/')[0];
  const differ = (x: string | undefined, y: string | undefined) => x !== undefined && y !== undefined && x !== y;
  return !differ(organizationOf(a), organizationOf(b)) && !differ(a.location, b.location);
}

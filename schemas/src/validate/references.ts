// Every organization and location a document names must be defined in the repository.
import { policyError } from '../errors.ts';
import { didYouMean } from '../load/closest-name.ts';
import type { PolicyDocument, PolicyError, Targets } from '../model.ts';
import { nameOf } from './checks.ts';
import type { CheckContext } from './checks.ts';

type Reference = { kind: 'Organization' | 'Location'; name: string; path: Array<string | number> };

export function checkReferences({ documents, declared }: CheckContext): PolicyError[] {
  const errors: PolicyError[] = [];
  for (const document of documents) {
    for (const reference of referencesOf(document)) {
      const known = declared.get(reference.kind) ?? new Set<string>();
      if (known.has(reference.name)) continue;
      const noun = reference.kind === 'Organization' ? 'organization' : 'location';
      const message = `${nameOf(document)} refers to ${noun} "${reference.name}", which is not defined${didYouMean(reference.name, known)}`;
      errors.push(policyError('MISSING_REFERENCE', message, document.positionOf(reference.path)));
    }
  }
  return errors;
}

function referencesOf(document: PolicyDocument): Reference[] {
  const spec = document.spec as { organization?: string; location?: string; targets?: Targets };
  switch (document.kind) {
    case 'Location':
      return [{ kind: 'Organization', name: spec.organization!, path: ['spec', 'organization'] }];
    case 'AgentOverride':
      return [
        ...(spec.organization ? [{ kind: 'Organization' as const, name: spec.organization, path: ['spec', 'organization'] }] : []),
        ...(spec.location ? [{ kind: 'Location' as const, name: spec.location, path: ['spec', 'location'] }] : []),
      ];
    case 'Script':
    case 'ExternalFact':
    case 'ChocoDeployment':
      return [
        ...(spec.targets?.organizations ?? []).map((name, i) => ({ kind: 'Organization' as const, name, path: ['spec', 'targets', 'organizations', i] })),
        ...(spec.targets?.locations ?? []).map((name, i) => ({ kind: 'Location' as const, name, path: ['spec', 'targets', 'locations', i] })),
      ];
    default:
      return [];
  }
}

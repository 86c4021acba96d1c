// Files validated documents into the Policy shape. Shared by loadPolicy and by tests that build a
// Policy straight from documents.
import type { Kind, Policy, PolicyDocument } from '../model.ts';

const MAP_OF_KIND = {
  Organization: 'organizations',
  Location: 'locations',
  AgentOverride: 'overrides',
  Script: 'scripts',
  ExternalFact: 'externalFacts',
  ChocoDeployment: 'chocoDeployments',
} as const satisfies Record<Exclude<Kind, 'Settings'>, keyof Policy>;

/** Documents must already be unique per kind and id (loadPolicy checks that first). */
export function assemblePolicy(documents: Iterable<PolicyDocument>, contents: Policy['contents']): Policy {
  const policy: Policy = {
    organizations: new Map(),
    locations: new Map(),
    overrides: new Map(),
    scripts: new Map(),
    externalFacts: new Map(),
    chocoDeployments: new Map(),
    contents,
  };
  for (const document of documents) {
    if (document.kind === 'Settings') policy.settings = document as PolicyDocument<'Settings'>;
    else (policy[MAP_OF_KIND[document.kind]] as Map<string, PolicyDocument>).set(document.id, document);
  }
  return policy;
}

// Builds a Policy straight from plain documents, so compiler and planner tests can state exactly
// the documents they need without going through YAML. Positions are synthetic but deterministic:
// a value's line is the document's line plus the depth of its path.
import type { Kind, Policy, PolicyDocument, SpecByKind } from '../model.ts';
import { sha256Hex } from '../canonical-json.ts';

export type TestDocument = {
  [K in Kind]: { kind: K; name: string; spec: SpecByKind[K]; file?: string; line?: number; organization?: string };
}[Kind];

/** `contents` maps "Kind/name" (and "Kind/name#check") to the resolved text. */
export function policyOf(documents: TestDocument[], contents: Record<string, string> = {}): Policy {
  const policy: Policy = {
    organizations: new Map(),
    locations: new Map(),
    overrides: new Map(),
    scripts: new Map(),
    externalFacts: new Map(),
    chocoDeployments: new Map(),
    contents: new Map(Object.entries(contents).map(([key, content]) => [key, { content, sha256: sha256Hex(content) }])),
  };
  for (const input of documents) {
    const document = toDocument(input);
    switch (document.kind) {
      case 'Settings': policy.settings = document as PolicyDocument<'Settings'>; break;
      case 'Organization': policy.organizations.set(document.id, document as PolicyDocument<'Organization'>); break;
      case 'Location': policy.locations.set(document.id, document as PolicyDocument<'Location'>); break;
      case 'AgentOverride': policy.overrides.set(document.id, document as PolicyDocument<'AgentOverride'>); break;
      case 'Script': policy.scripts.set(document.id, document as PolicyDocument<'Script'>); break;
      case 'ExternalFact': policy.externalFacts.set(document.id, document as PolicyDocument<'ExternalFact'>); break;
      case 'ChocoDeployment': policy.chocoDeployments.set(document.id, document as PolicyDocument<'ChocoDeployment'>); break;
    }
  }
  return policy;
}

function toDocument(input: TestDocument): PolicyDocument {
  const file = input.file ?? `${input.kind.toLowerCase()}/${input.name}.yaml`;
  const line = input.line ?? 1;
  const id = input.kind === 'Location' ? `${(input.spec as SpecByKind['Location']).organization}/${input.name}` : input.name;
  return {
    kind: input.kind,
    id,
    metadata: { name: input.name },
    spec: input.spec,
    source: { file, line, col: 1 },
    positionOf: (path) => ({ file, line: line + path.length, col: 1 }),
  } as PolicyDocument;
}

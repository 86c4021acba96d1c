// Builds a Policy straight from plain documents, so compiler and planner tests can state exactly
// the documents they need without going through YAML. Positions are synthetic but deterministic:
// a value's line is the document's line plus the depth of its path.
import type { Kind, Policy, PolicyDocument, SpecByKind } from '../model.ts';
import { sha256Hex } from '../canonical-json.ts';
import { assemblePolicy } from '../validate/assemble-policy.ts';

export type TestDocument = {
  [K in Kind]: { kind: K; name: string; spec: SpecByKind[K]; file?: string; line?: number; organization?: string };
}[Kind];

/** `contents` maps "Kind/name" (and "Kind/name#check") to the resolved text. */
export function policyOf(documents: TestDocument[], contents: Record<string, string> = {}): Policy {
  const resolved = new Map(Object.entries(contents).map(([key, content]) => [key, { content, sha256: sha256Hex(content) }]));
  return assemblePolicy(documents.map(toDocument), resolved);
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

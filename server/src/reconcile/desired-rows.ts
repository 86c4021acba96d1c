// Turns the validated policy of one revision into the rows the applied state holds: one row per
// policy object (with the inventory digest), the resolved script contents, and the compiled
// scope documents.
import { inventory, policyDocuments } from '../../../schemas/src/plan/inventory.ts';
import type { Policy } from '../../../schemas/src/model.ts';
import type { ContentRow, DesiredRows, ObjectRow } from '../apply/plan-writes.ts';
import { compileScopes } from './compile-scopes.ts';

export function desiredRows(policy: Policy): DesiredRows {
  const objects = new Map<string, ObjectRow>();
  const documents = policyDocumentsByKey(policy);
  for (const [key, entry] of inventory(policy)) {
    const document = documents.get(key)!;
    objects.set(key, { ...entry, metadata: document.metadata, spec: document.spec });
  }
  const contents = new Map<string, ContentRow>();
  for (const resolved of policy.contents.values()) contents.set(resolved.sha256, { sha256: resolved.sha256, content: resolved.content });
  return { objects, contents, ...compileScopes(policy) };
}

function policyDocumentsByKey(policy: Policy) {
  return new Map(policyDocuments(policy).map((document) => [`${document.kind}/${document.id}`, document]));
}

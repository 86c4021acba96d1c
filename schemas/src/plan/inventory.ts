// The inventory of a revision: one entry per document with a digest of what it means (metadata,
// spec and the content of the files it references). Diffing two inventories says which objects
// were added, changed or removed; the server also counts removals against the deletion budget.
import type { Kind, Policy, PolicyDocument } from '../model.ts';
import { canonicalJson, sha256Hex } from '../canonical-json.ts';

export interface InventoryEntry {
  kind: Kind;
  id: string;
  sha256: string;
  file: string;
  line: number;
}

/** Keyed "Kind/id". */
export type Inventory = Map<string, InventoryEntry>;

export function inventory(policy: Policy): Inventory {
  const entries: Inventory = new Map();
  for (const document of policyDocuments(policy)) {
    const key = `${document.kind}/${document.id}`;
    // Content digests, not positions: a script whose file changed counts as changed, a document
    // that only moved within its file does not.
    const contents: Record<string, string> = {};
    for (const suffix of ['', '#check']) {
      const resolved = policy.contents.get(key + suffix);
      if (resolved) contents[suffix || 'main'] = resolved.sha256;
    }
    const digest = sha256Hex(canonicalJson({ metadata: document.metadata, spec: document.spec, contents }));
    entries.set(key, { kind: document.kind, id: document.id, sha256: digest, file: document.source.file, line: document.source.line });
  }
  return entries;
}

export function policyDocuments(policy: Policy): PolicyDocument[] {
  return [
    ...(policy.settings ? [policy.settings] : []),
    ...policy.organizations.values(),
    ...policy.locations.values(),
    ...policy.overrides.values(),
    ...policy.scripts.values(),
    ...policy.externalFacts.values(),
    ...policy.chocoDeployments.values(),
  ];
}

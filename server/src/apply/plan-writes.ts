// The plan of writes: which rows of the applied state a new revision inserts, updates and deletes.
// Pure: it compares what is stored (digests only) with what the revision compiles to, so the apply
// transaction writes exactly the rows whose content changed and nothing else.

/** One policy object as stored in `policy_objects`. */
export interface ObjectRow {
  kind: string;
  id: string;
  sha256: string;
  file: string;
  line: number;
  metadata: unknown;
  spec: unknown;
}

/** One scope → document row (`scope_documents`); see 002_policy.sql for the scope key format. */
export interface ScopeRow {
  scope: string;
  organization: string;
  location: string;
  agent: string | null;
  documentSha256: string;
}

export interface DocumentRow {
  sha256: string;
  /** Canonical JSON text of the desired state. */
  json: string;
}

export interface ContentRow {
  sha256: string;
  content: string;
}

/** Everything one revision compiles to. Maps are keyed by "Kind/id", sha256 and scope key. */
export interface DesiredRows {
  objects: Map<string, ObjectRow>;
  contents: Map<string, ContentRow>;
  documents: Map<string, DocumentRow>;
  scopes: Map<string, ScopeRow>;
}

/** What the database holds now: only what the diff needs (digests and positions, no bodies). */
export interface StoredInventory {
  revision: string | null;
  objects: Map<string, { sha256: string; file: string; line: number }>;
  contentShas: Set<string>;
  /** scope → document sha256 */
  scopes: Map<string, string>;
}

export interface WriteCounts {
  added: number;
  changed: number;
  removed: number;
}

export interface WritePlan {
  objects: { upsert: ObjectRow[]; delete: Array<{ kind: string; id: string }> };
  contents: { insert: ContentRow[]; delete: string[] };
  documents: { insert: DocumentRow[]; delete: string[] };
  scopes: { upsert: ScopeRow[]; delete: string[] };
  /** Policy objects: added, content changed, removed. A row whose content is equal but whose file or
   * line moved is rewritten (listings show positions) but not counted as changed. */
  counts: WriteCounts;
  /** Scopes whose document changed, appeared or disappeared: the agents to signal. Sorted. */
  changedScopes: string[];
}

export function planWrites(stored: StoredInventory, desired: DesiredRows): WritePlan {
  const upsertObjects: ObjectRow[] = [];
  const counts: WriteCounts = { added: 0, changed: 0, removed: 0 };
  for (const [key, row] of desired.objects) {
    const before = stored.objects.get(key);
    if (!before) counts.added++;
    else if (before.sha256 !== row.sha256) counts.changed++;
    else if (before.file === row.file && before.line === row.line) continue;
    upsertObjects.push(row);
  }
  const deleteObjects: Array<{ kind: string; id: string }> = [];
  for (const key of stored.objects.keys()) {
    if (desired.objects.has(key)) continue;
    counts.removed++;
    deleteObjects.push(splitObjectKey(key));
  }

  const upsertScopes: ScopeRow[] = [];
  for (const [scope, row] of desired.scopes) {
    if (stored.scopes.get(scope) !== row.documentSha256) upsertScopes.push(row);
  }
  const deleteScopes = [...stored.scopes.keys()].filter((scope) => !desired.scopes.has(scope));

  const storedDocuments = new Set(stored.scopes.values());
  const wantedDocuments = new Set([...desired.scopes.values()].map((row) => row.documentSha256));

  return {
    objects: { upsert: upsertObjects, delete: deleteObjects },
    contents: {
      insert: [...desired.contents.values()].filter((row) => !stored.contentShas.has(row.sha256)),
      delete: [...stored.contentShas].filter((sha) => !desired.contents.has(sha)),
    },
    documents: {
      insert: [...wantedDocuments].filter((sha) => !storedDocuments.has(sha)).map((sha) => documentOf(desired, sha)),
      delete: [...storedDocuments].filter((sha) => !wantedDocuments.has(sha)),
    },
    scopes: { upsert: upsertScopes, delete: deleteScopes },
    counts,
    changedScopes: [...upsertScopes.map((row) => row.scope), ...deleteScopes].sort(),
  };
}

/** True when applying the plan would write nothing. */
export function isEmptyPlan(plan: WritePlan): boolean {
  return plan.objects.upsert.length + plan.objects.delete.length + plan.contents.insert.length + plan.contents.delete.length +
    plan.documents.insert.length + plan.documents.delete.length + plan.scopes.upsert.length + plan.scopes.delete.length === 0;
}

export function objectKey(kind: string, id: string): string {
  return `${kind}/${id}`;
}

// Kinds never contain "/", ids may ("org/location"), so the first slash separates them.
function splitObjectKey(key: string): { kind: string; id: string } {
  const slash = key.indexOf('/');
  return { kind: key.slice(0, slash), id: key.slice(slash + 1) };
}

function documentOf(desired: DesiredRows, sha256: string): DocumentRow {
  const row = desired.documents.get(sha256);
  if (!row) throw new Error(`planWrites: scope refers to document ${sha256}, which the revision did not compile`);
  return row;
}

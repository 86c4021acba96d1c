// The plan of writes: which rows of the applied state a new revision inserts, updates and deletes.
// Pure: it compares the applied state (digests only, from memory or read from the database) with what
// the revision compiles to, so the apply transaction writes exactly the rows whose content changed.

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
  /** The document id (schemas documentDigest of its two parts). */
  documentSha256: string;
}

/** A document: the digests of its settings part and its resources part. */
export interface DocumentRow {
  sha256: string;
  settingsSha256: string;
  resourcesSha256: string;
}

export type PartKind = 'settings' | 'resources';

/** One content-addressed part (`document_parts`): canonical JSON text. */
export interface PartRow {
  sha256: string;
  kind: PartKind;
  body: string;
}

export interface ContentRow {
  sha256: string;
  content: string;
}

/** What one revision compiles to. Objects, contents and scopes are complete; documents and parts
 * hold only what this reconcile compiled — a scope it did not recompile keeps a document that the
 * applied state already holds. Maps are keyed by "Kind/id", sha256 and scope key. */
export interface DesiredRows {
  objects: Map<string, ObjectRow>;
  contents: Map<string, ContentRow>;
  scopes: Map<string, ScopeRow>;
  documents: Map<string, DocumentRow>;
  parts: Map<string, PartRow>;
}

/** The applied state: only what the diff needs (digests and positions, no bodies). */
export interface StoredInventory {
  revision: string | null;
  /** policy_state.documents_version when this was read or written: agents' own scopes change
   * between reconciles, and a copy whose version is behind the database's is stale. */
  documentsVersion: number;
  objects: Map<string, { sha256: string; file: string; line: number }>;
  contentShas: Set<string>;
  /** scope → document id */
  scopes: Map<string, string>;
  /** document id → its parts */
  documents: Map<string, { settingsSha256: string; resourcesSha256: string }>;
  partShas: Set<string>;
}

export interface WriteCounts {
  added: number;
  changed: number;
  removed: number;
}

/** Inserts are rows the applied state lacks (bulk-copied), updates rows it holds with other values. */
export interface WritePlan {
  objects: { insert: ObjectRow[]; update: ObjectRow[]; delete: Array<{ kind: string; id: string }> };
  contents: { insert: ContentRow[]; delete: string[] };
  parts: { insert: PartRow[]; delete: string[] };
  documents: { insert: DocumentRow[]; delete: string[] };
  scopes: { insert: ScopeRow[]; update: ScopeRow[]; delete: string[] };
  /** Policy objects: added, content changed, removed. A row whose content is equal but whose file or
   * line moved is rewritten (listings show positions) but not counted as changed. */
  counts: WriteCounts;
  /** Scopes whose document changed, appeared or disappeared: the agents to signal. Sorted. */
  changedScopes: string[];
}

export function emptyStoredInventory(): StoredInventory {
  return { revision: null, documentsVersion: 0, objects: new Map(), contentShas: new Set(), scopes: new Map(), documents: new Map(), partShas: new Set() };
}

export function planWrites(stored: StoredInventory, desired: DesiredRows): WritePlan {
  const insertObjects: ObjectRow[] = [];
  const updateObjects: ObjectRow[] = [];
  const counts: WriteCounts = { added: 0, changed: 0, removed: 0 };
  for (const [key, row] of desired.objects) {
    const before = stored.objects.get(key);
    if (!before) {
      counts.added++;
      insertObjects.push(row);
      continue;
    }
    if (before.sha256 !== row.sha256) counts.changed++;
    else if (before.file === row.file && before.line === row.line) continue;
    updateObjects.push(row);
  }
  const deleteObjects: Array<{ kind: string; id: string }> = [];
  for (const key of stored.objects.keys()) {
    if (desired.objects.has(key)) continue;
    counts.removed++;
    deleteObjects.push(splitObjectKey(key));
  }

  const insertScopes: ScopeRow[] = [];
  const updateScopes: ScopeRow[] = [];
  for (const [scope, row] of desired.scopes) {
    const before = stored.scopes.get(scope);
    if (before === undefined) insertScopes.push(row);
    else if (before !== row.documentSha256) updateScopes.push(row);
  }
  const deleteScopes = [...stored.scopes.keys()].filter((scope) => !desired.scopes.has(scope));

  // Documents and parts live while a scope (a document) refers to them.
  const wantedDocuments = new Map<string, { settingsSha256: string; resourcesSha256: string }>();
  for (const row of desired.scopes.values()) {
    if (!wantedDocuments.has(row.documentSha256)) wantedDocuments.set(row.documentSha256, documentOf(stored, desired, row.documentSha256));
  }
  const wantedParts = new Set<string>();
  for (const document of wantedDocuments.values()) wantedParts.add(document.settingsSha256).add(document.resourcesSha256);

  const insertDocuments: DocumentRow[] = [];
  for (const [sha256, document] of wantedDocuments) {
    if (!stored.documents.has(sha256)) insertDocuments.push({ sha256, settingsSha256: document.settingsSha256, resourcesSha256: document.resourcesSha256 });
  }
  const insertParts: PartRow[] = [];
  for (const sha256 of wantedParts) {
    if (!stored.partShas.has(sha256)) insertParts.push(partOf(desired, sha256));
  }

  return {
    objects: { insert: insertObjects, update: updateObjects, delete: deleteObjects },
    contents: {
      insert: [...desired.contents.values()].filter((row) => !stored.contentShas.has(row.sha256)),
      delete: [...stored.contentShas].filter((sha) => !desired.contents.has(sha)),
    },
    parts: { insert: insertParts, delete: [...stored.partShas].filter((sha) => !wantedParts.has(sha)) },
    documents: { insert: insertDocuments, delete: [...stored.documents.keys()].filter((sha) => !wantedDocuments.has(sha)) },
    scopes: { insert: insertScopes, update: updateScopes, delete: deleteScopes },
    counts,
    changedScopes: [...insertScopes, ...updateScopes].map((row) => row.scope).concat(deleteScopes).sort(),
  };
}

/** The applied state once `plan` has committed: what the next reconcile diffs against. */
export function storedAfter(stored: StoredInventory, desired: DesiredRows, plan: WritePlan, revision: string, documentsVersion: number): StoredInventory {
  const objects = new Map<string, { sha256: string; file: string; line: number }>();
  for (const [key, row] of desired.objects) objects.set(key, { sha256: row.sha256, file: row.file, line: row.line });
  const scopes = new Map<string, string>();
  for (const [key, row] of desired.scopes) scopes.set(key, row.documentSha256);
  const documents = new Map(stored.documents);
  for (const sha256 of plan.documents.delete) documents.delete(sha256);
  for (const { sha256, settingsSha256, resourcesSha256 } of plan.documents.insert) documents.set(sha256, { settingsSha256, resourcesSha256 });
  const partShas = new Set(stored.partShas);
  for (const sha256 of plan.parts.delete) partShas.delete(sha256);
  for (const row of plan.parts.insert) partShas.add(row.sha256);
  return { revision, documentsVersion, objects, contentShas: new Set(desired.contents.keys()), scopes, documents, partShas };
}

/** True when applying the plan would write nothing. */
export function isEmptyPlan(plan: WritePlan): boolean {
  const lists = [plan.objects, plan.contents, plan.parts, plan.documents, plan.scopes].flatMap((table) => Object.values(table) as unknown[][]);
  return lists.every((rows) => rows.length === 0);
}

export function objectKey(kind: string, id: string): string {
  return `${kind}/${id}`;
}

// Kinds never contain "/", ids may ("org/location"), so the first slash separates them.
function splitObjectKey(key: string): { kind: string; id: string } {
  const slash = key.indexOf('/');
  return { kind: key.slice(0, slash), id: key.slice(slash + 1) };
}

function documentOf(stored: StoredInventory, desired: DesiredRows, sha256: string): { settingsSha256: string; resourcesSha256: string } {
  const row = desired.documents.get(sha256) ?? stored.documents.get(sha256);
  if (!row) throw new Error(`planWrites: a scope refers to document ${sha256}, which neither the revision nor the applied state holds`);
  return row;
}

function partOf(desired: DesiredRows, sha256: string): PartRow {
  const row = desired.parts.get(sha256);
  if (!row) throw new Error(`planWrites: a document refers to part ${sha256}, which neither the revision compiled nor the applied state holds`);
  return row;
}

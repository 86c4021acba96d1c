// Writes enrolled agents' own scopes between reconciles (an agent enrolled, or reported facts that
// change its document), inside the caller's transaction. Unlike a reconcile's plan, these rows may
// race another instance's identical write, so documents and parts go in with `on conflict do
// nothing`; documents no scope uses any more are left to the next reconcile, which drops them.
import type postgres from 'postgres';
import type { DocumentRow, PartRow, ScopeRow } from './plan-writes.ts';

export interface AgentScopeWrites {
  upsert: ScopeRow[];
  /** Scope keys of agents that read their location's document again. */
  delete: string[];
  documents: DocumentRow[];
  parts: PartRow[];
}

export function isEmptyAgentScopeWrites(writes: AgentScopeWrites): boolean {
  return writes.upsert.length === 0 && writes.delete.length === 0;
}

export async function writeAgentScopes(tx: postgres.TransactionSql, writes: AgentScopeWrites, revision: string): Promise<void> {
  if (writes.parts.length) {
    const rows = writes.parts.map((part) => ({ sha256: part.sha256, kind: part.kind, body: part.body, size: Buffer.byteLength(part.body) }));
    await tx`insert into document_parts ${tx(rows)} on conflict (sha256) do nothing`;
  }
  if (writes.documents.length) {
    const rows = writes.documents.map((d) => ({ sha256: d.sha256, settings_sha256: d.settingsSha256, resources_sha256: d.resourcesSha256 }));
    await tx`insert into desired_documents ${tx(rows)} on conflict (sha256) do nothing`;
  }
  if (writes.upsert.length) {
    const rows = writes.upsert.map((s) => ({ scope: s.scope, organization: s.organization, location: s.location, agent: s.agent, document_sha256: s.documentSha256, revision }));
    await tx`
      insert into scope_documents ${tx(rows)}
      on conflict (scope) do update set document_sha256 = excluded.document_sha256, revision = excluded.revision,
        organization = excluded.organization, location = excluded.location, agent = excluded.agent`;
  }
  if (writes.delete.length) await tx`delete from scope_documents where scope = any(${writes.delete}::text[])`;
}

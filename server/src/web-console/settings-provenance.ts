// An agent's effective settings from its compiled document, when this instance does not hold the
// applied policy in memory: every key with its value, the document and file that set it, and the
// line where that document starts (the policy's own explain gives the key's line when available).
import type postgres from 'postgres';
import type { AgentRecord } from '../agents/agents.ts';
import type { SettingsPart } from '../../../schemas/src/compile/parts.ts';

export interface DocumentSetting {
  key: string;
  value: unknown;
  document: string;
  file?: string;
  line?: number;
  overridden: [];
}

export async function settingsProvenance(sql: postgres.Sql, agent: Pick<AgentRecord, 'name' | 'organization' | 'location'>): Promise<DocumentSetting[]> {
  const [row] = await sql<Array<{ body: string }>>`
    select p.body from scope_documents s
    join desired_documents d on d.sha256 = s.document_sha256
    join document_parts p on p.sha256 = d.settings_sha256
    where s.scope in (${`${agent.organization}/${agent.location}/${agent.name}`}, ${`${agent.organization}/${agent.location}`})
    order by s.agent nulls last limit 1`;
  if (!row) return [];
  const { settings, provenance } = JSON.parse(row.body) as SettingsPart;
  const documents = [...new Set(Object.values(provenance).map((source) => source.document))];
  const lines = new Map((await sql<Array<{ document: string; line: number }>>`
    select kind || '/' || id as document, line from policy_objects where kind || '/' || id = any(${documents}::text[])`).map((r) => [r.document, r.line]));
  return Object.keys(provenance).sort().map((key) => {
    const source = provenance[key];
    const line = lines.get(source.document);
    return { key, value: valueAt(settings, key), document: source.document, ...(source.file ? { file: source.file } : {}), ...(line ? { line } : {}), overridden: [] };
  });
}

function valueAt(settings: unknown, dottedKey: string): unknown {
  return dottedKey.split('.').reduce<unknown>((node, part) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[part] : undefined), settings);
}

// Which of the targeted agents a Script applies to: those whose document in the applied state lists
// it (its targets, platforms and fact selectors were decided when the document was compiled).
import type postgres from 'postgres';
import { readAgentDocuments } from '../apply/agent-documents.ts';
import { readDocumentParts } from '../apply/document-store.ts';

export async function agentsWithScript(sql: postgres.Sql, agentIds: string[], script: string): Promise<{ applies: string[]; notApplicable: string[] }> {
  const { documents } = await readAgentDocuments(sql);
  const hasScript = new Map<string, boolean>();
  const applies: string[] = [];
  const notApplicable: string[] = [];
  for (const agentId of agentIds) {
    const document = documents.get(agentId);
    if (document && !hasScript.has(document)) {
      const parts = await readDocumentParts(sql, document);
      const scripts = parts ? (JSON.parse(parts.resources) as { scripts?: Array<{ name: string }> }).scripts ?? [] : [];
      hasScript.set(document, scripts.some((candidate) => candidate.name === script));
    }
    (document && hasScript.get(document) ? applies : notApplicable).push(agentId);
  }
  return { applies, notApplicable };
}

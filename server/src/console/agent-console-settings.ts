// The remote_console block of an agent's document in the applied state: what the agent itself
// receives, so the server and the agent decide from the same settings.
import { readDocumentParts } from '../apply/document-store.ts';
import { readAgentDocument } from '../apply/agent-documents.ts';
import type postgres from 'postgres';
import type { ConsoleSettings } from './console-policy.ts';

/** undefined when the agent has no document yet (then the defaults apply: console disabled). */
export async function readConsoleSettings(sql: postgres.Sql, agentId: string): Promise<Partial<ConsoleSettings> | undefined> {
  const at = await readAgentDocument(sql, agentId);
  if (!at) return undefined;
  const parts = await readDocumentParts(sql, at.document);
  if (!parts) return undefined;
  return (JSON.parse(parts.settings) as { settings?: { remote_console?: Partial<ConsoleSettings> } }).settings?.remote_console;
}

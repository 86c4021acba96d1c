// How much output the server keeps per run: the agent's own cap (the script's max_output_bytes, else
// settings.scripts.max_output_bytes of the agent's current document), so an agent that ignores its
// cap cannot store more than its policy allows. Without a document (none applied yet, or the agent's
// scope has none) the server's cap applies.
import type postgres from 'postgres';
import { assembleDocument } from '../../../schemas/src/compile/assemble.ts';
import type { AgentPrincipal } from '../agents/access-token.ts';
import { readAgentDocument } from '../apply/agent-documents.ts';
import { readDocumentParts } from '../apply/document-store.ts';
import type { Logger } from '../logger.ts';

const SERVER_OUTPUT_CAP_BYTES = 1024 * 1024;

export interface OutputCaps {
  /** Cap of a script run's stdout and stderr, each. */
  scriptBytes(script: string): number;
  /** Cap of a choco run's output (choco has no cap of its own: the settings' script cap). */
  chocoBytes: number;
}

export const SERVER_OUTPUT_CAPS: OutputCaps = { scriptBytes: () => SERVER_OUTPUT_CAP_BYTES, chocoBytes: SERVER_OUTPUT_CAP_BYTES };

// Documents are content-addressed: the caps of a document id never change, so they are cached by id.
const CACHED_DOCUMENTS = 1000;

/** Caps from a document's two stored parts, filled in by the same assembleDocument that serves it. */
function capsFromParts(settingsJson: string, resourcesJson: string): OutputCaps {
  // Contents are not needed for the caps: an empty text stands in for each.
  const { state } = assembleDocument(settingsJson, resourcesJson, () => '');
  const byScript = new Map(state.scripts.map((script) => [script.name, script.max_output_bytes]));
  const settingsCap = state.settings.scripts.max_output_bytes;
  return { scriptBytes: (name) => byScript.get(name) ?? settingsCap, chocoBytes: settingsCap };
}

/** `cachedDocumentOf` answers from memory when it can: a report with script output would otherwise
 * cost a query for the agent's document id (at 15,000 agents, 50 a second). */
export function createOutputCapResolver(
  sql: postgres.Sql,
  log: Pick<Logger, 'warn'>,
  cachedDocumentOf: (agentId: string) => string | undefined = () => undefined,
): (agent: AgentPrincipal) => Promise<OutputCaps> {
  const cache = new Map<string, OutputCaps>();

  const capsOfDocument = async (id: string): Promise<OutputCaps> => {
    const cached = cache.get(id);
    if (cached) return cached;
    const parts = await readDocumentParts(sql, id);
    if (!parts) return SERVER_OUTPUT_CAPS;
    const caps = capsFromParts(parts.settings, parts.resources);
    if (cache.size >= CACHED_DOCUMENTS) cache.delete(cache.keys().next().value!);
    cache.set(id, caps);
    return caps;
  };

  return async (agent) => {
    try {
      const id = cachedDocumentOf(agent.agentId) ?? (await readAgentDocument(sql, agent.agentId))?.document;
      return id ? await capsOfDocument(id) : SERVER_OUTPUT_CAPS;
    } catch (error) {
      // The server cap is a safe answer; refusing the report over it would lose results.
      log.warn({ err: error, agent: agent.name }, 'output caps unavailable; using the server cap');
      return SERVER_OUTPUT_CAPS;
    }
  };
}

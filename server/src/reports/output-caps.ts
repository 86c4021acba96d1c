// How much output the server keeps per run: the agent's own cap (the script's max_output_bytes, else
// settings.scripts.max_output_bytes of the agent's current document), so an agent that ignores its
// cap cannot store more than its policy allows. Without a document (none applied yet, or the agent's
// scope has none) the server's cap applies.
import type postgres from 'postgres';
import { assembleDocument } from '../../../schemas/src/compile/assemble.ts';
import type { AgentPrincipal } from '../agents/access-token.ts';
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

export function createOutputCapResolver(sql: postgres.Sql, log: Pick<Logger, 'warn'>): (agent: AgentPrincipal) => Promise<OutputCaps> {
  const cache = new Map<string, OutputCaps>();

  const capsOfDocument = async (id: string): Promise<OutputCaps> => {
    const cached = cache.get(id);
    if (cached) return cached;
    const [parts] = await sql<Array<{ settings: string; resources: string }>>`
      select s.body as settings, r.body as resources
      from desired_documents d
      join document_parts s on s.sha256 = d.settings_sha256
      join document_parts r on r.sha256 = d.resources_sha256
      where d.sha256 = ${id}`;
    if (!parts) return SERVER_OUTPUT_CAPS;
    const caps = capsFromParts(parts.settings, parts.resources);
    if (cache.size >= CACHED_DOCUMENTS) cache.delete(cache.keys().next().value!);
    cache.set(id, caps);
    return caps;
  };

  return async (agent) => {
    try {
      const id = await currentDocumentId(sql, agent);
      return id ? await capsOfDocument(id) : SERVER_OUTPUT_CAPS;
    } catch (error) {
      // The server cap is a safe answer; refusing the report over it would lose results.
      log.warn({ err: error, agent: agent.name }, 'output caps unavailable; using the server cap');
      return SERVER_OUTPUT_CAPS;
    }
  };
}

/** The agent's scope: its own ("org/location/name", from an AgentOverride) else its location's. */
async function currentDocumentId(sql: postgres.Sql, agent: Pick<AgentPrincipal, 'name' | 'organization' | 'location'>): Promise<string | undefined> {
  const location = `${agent.organization}/${agent.location}`;
  const [row] = await sql<Array<{ document_sha256: string }>>`
    select document_sha256 from scope_documents
    where scope in (${`${location}/${agent.name}`}, ${location})
    order by agent nulls last
    limit 1`;
  return row?.document_sha256;
}

// config.json: which server this agent belongs to and who it is there. Written by `pswm enroll`.
import { loadJsonFile, saveJsonFile } from '../platform/json-file.ts';

export interface AgentConfig {
  server: string;
  agent_id: string;
  name: string;
  organization?: string;
  location?: string;
  enrolled_at: string;
  /** Where the machine owner's fact scripts are, instead of <data>/external_facts (set by hand). */
  external_facts_dir?: string;
  /** The server's release key (SPKI PEM) at enrollment: self-update runs only builds it signed. */
  release_public_key?: string;
}

function isAgentConfig(value: unknown): value is AgentConfig {
  const v = value as Partial<AgentConfig> | null;
  return typeof v === 'object' && v !== null && typeof v.server === 'string' && typeof v.agent_id === 'string' && typeof v.name === 'string';
}

/** The config, or null before enrollment. */
export async function loadAgentConfig(file: string): Promise<AgentConfig | null> {
  return loadJsonFile<AgentConfig | null>(file, () => null, (v): v is AgentConfig | null => isAgentConfig(v));
}

export async function saveAgentConfig(file: string, config: AgentConfig): Promise<void> {
  await saveJsonFile(file, config);
}

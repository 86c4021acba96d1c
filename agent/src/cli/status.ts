// pswm status: what this agent knows about itself, read from the data folder without touching it
// (a running agent may be writing there).
import { readdir } from 'node:fs/promises';
import { EXIT, parseCommandArgs, printJson, type Command } from '@pswm/schemas/cli-usage';
import { loadAgentConfig, type AgentConfig } from '../identity/config.ts';
import { loadLastIteration, type LastIteration } from '../loop/last-iteration.ts';
import { dataPaths } from '../paths.ts';
import { DATA_DIR_HELP, DATA_DIR_OPTION, dataDirFrom } from './data-dir.ts';

const HELP = `Usage: pswm status [--json] [--data-dir DIR]

Show enrollment, server, the last iteration (time, result), the applied policy revision and how
many reports wait in the outbox.

Options:
  --json           Print the same as one JSON object.
${DATA_DIR_HELP}  --help           Show this help.

Exit status: 0 enrolled, 1 not enrolled, 2 usage error.
`;

export interface AgentStatus {
  data_dir: string;
  enrolled: boolean;
  agent?: Pick<AgentConfig, 'name' | 'agent_id' | 'organization' | 'location' | 'enrolled_at'>;
  server?: string;
  last_iteration?: LastIteration;
  applied_revision?: string;
  pending_reports: number;
}

/** Outbox records are `<16-digit sequence>-<id>.json` (report/outbox.ts); temporary files start with a dot. */
async function countOutboxRecords(dir: string): Promise<number> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.filter((name) => /^\d{16}-.+\.json$/.test(name)).length;
}

export async function readAgentStatus(dataDir: string): Promise<AgentStatus> {
  const paths = dataPaths(dataDir);
  const config = await loadAgentConfig(paths.config);
  const last = await loadLastIteration(paths.state);
  return {
    data_dir: dataDir,
    enrolled: config !== null,
    ...(config ? { agent: { name: config.name, agent_id: config.agent_id, organization: config.organization, location: config.location, enrolled_at: config.enrolled_at }, server: config.server } : {}),
    ...(last ? { last_iteration: last } : {}),
    ...(last?.applied_revision ? { applied_revision: last.applied_revision } : {}),
    pending_reports: await countOutboxRecords(paths.outbox),
  };
}

export function formatAgentStatus(status: AgentStatus): string {
  const last = status.last_iteration;
  const lines: Array<[string, string]> = [
    ['data folder', status.data_dir],
    ['enrolled', status.agent ? `yes, as ${status.agent.name} (${status.agent.organization}/${status.agent.location}), agent id ${status.agent.agent_id}` : 'no (run "pswm enroll")'],
    ['server', status.server ?? '-'],
    ['last iteration', last ? `${last.finished_at} ${last.result}${last.dry_run ? ' (dry run)' : ''}${last.source === 'cache' ? ' (offline, cached desired state)' : ''}${last.error ? `: ${last.error}` : ''}` : 'never'],
    ['last results', last?.counts && Object.keys(last.counts).length ? Object.entries(last.counts).map(([k, n]) => `${n} ${k}`).join(', ') : '-'],
    ['applied revision', status.applied_revision ?? '-'],
    ['pending reports', String(status.pending_reports)],
  ];
  return lines.map(([label, value]) => `${`${label}:`.padEnd(18)}${value}\n`).join('');
}

export const statusCommand: Omit<Command, 'summary'> = {
  name: 'status',
  help: HELP,
  async run(args) {
    const parsed = parseCommandArgs(this, args, { json: { type: 'boolean' }, ...DATA_DIR_OPTION }, 0);
    if (!parsed) return EXIT.ok;
    const status = await readAgentStatus(dataDirFrom(parsed.values));
    if (parsed.values.json) printJson(status);
    else process.stdout.write(formatAgentStatus(status));
    return status.enrolled ? EXIT.ok : EXIT.failed;
  },
};

// pswm status: what this agent knows about itself, read from the data folder without touching it
// (a running agent may be writing there).
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { EXIT, parseCommandArgs, printJson, type Command } from '@pswm/schemas/cli-usage';
import { loadAgentConfig, type AgentConfig } from '../identity/config.ts';
import { readKeyProtection } from '../identity/key-pair.ts';
import { loadLastIteration, type LastIteration } from '../loop/last-iteration.ts';
import { readCriticalEvents } from '../logs/logger.ts';
import { formatCriticalEvent } from '../report/critical-events.ts';
import type { RejectedRecord } from '../report/deliver.ts';
import { dataPaths } from '../paths.ts';
import { DATA_DIR_HELP, DATA_DIR_OPTION, dataDirFrom } from './data-dir.ts';

const HELP = `Usage: pswm status [--json] [--data-dir DIR]

Show enrollment, server, how the private key is protected, the last iteration (time, result, the items that failed and why), the
applied policy revision, the reports waiting in the outbox, the reports set aside in
outbox-rejected/ with the reason, and the latest entries of critical.log.

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
  /** How the private key is protected at rest: "DPAPI (machine) + ACL", "file mode 0600", … */
  key_protection: string;
  last_iteration?: LastIteration;
  applied_revision?: string;
  pending_reports: number;
  /** How often the server failed on pending reports that it took others meanwhile (outbox/failures.json). */
  pending_failures?: Record<string, number>;
  rejected_reports: Array<{ id: string; rejected_at?: string; reason: string }>;
  /** The newest entries of critical.log, oldest first. */
  critical_events: string[];
}

const SHOWN_REJECTED = 10;
const SHOWN_CRITICAL = 5;

/** Outbox records are `<16-digit sequence>-<id>.json` (report/outbox.ts); temporary files start with a dot. */
async function countOutboxRecords(dir: string): Promise<number> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.filter((name) => /^\d{16}-.+\.json$/.test(name)).length;
}

/** The newest set-aside reports with their reason; a file that cannot be read says so. */
async function readRejected(dir: string): Promise<AgentStatus['rejected_reports']> {
  const names = (await readdir(dir).catch(() => [] as string[])).filter((name) => name.endsWith('.json'));
  const entries = await Promise.all(
    names.map(async (name) => {
      const id = name.slice(0, -'.json'.length);
      try {
        const entry = JSON.parse(await readFile(path.join(dir, name), 'utf8')) as Partial<RejectedRecord>;
        return { id, ...(entry.rejected_at ? { rejected_at: entry.rejected_at } : {}), reason: String(entry.error ?? 'no reason recorded') };
      } catch (error) {
        return { id, reason: `unreadable: ${(error as Error).message}` };
      }
    }),
  );
  return entries.sort((a, b) => (b.rejected_at ?? '').localeCompare(a.rejected_at ?? ''));
}

export async function readAgentStatus(dataDir: string): Promise<AgentStatus> {
  const paths = dataPaths(dataDir);
  const config = await loadAgentConfig(paths.config);
  const last = await loadLastIteration(paths.state);
  return {
    data_dir: dataDir,
    enrolled: config !== null,
    ...(config ? { agent: { name: config.name, agent_id: config.agent_id, organization: config.organization, location: config.location, enrolled_at: config.enrolled_at }, server: config.server } : {}),
    key_protection: await readKeyProtection(paths.privateKey),
    ...(last ? { last_iteration: last } : {}),
    ...(last?.applied_revision ? { applied_revision: last.applied_revision } : {}),
    pending_reports: await countOutboxRecords(paths.outbox),
    ...(await readPendingFailures(paths.outbox)),
    rejected_reports: await readRejected(path.join(dataDir, 'outbox-rejected')),
    critical_events: readCriticalEvents(paths.logs).slice(-SHOWN_CRITICAL).map(formatCriticalEvent),
  };
}

async function readPendingFailures(outboxDir: string): Promise<Pick<AgentStatus, 'pending_failures'>> {
  const counts = await readFile(path.join(outboxDir, 'failures.json'), 'utf8').then((text) => JSON.parse(text) as Record<string, number>, () => undefined);
  return counts && Object.keys(counts).length ? { pending_failures: counts } : {};
}

export function formatAgentStatus(status: AgentStatus): string {
  const last = status.last_iteration;
  const lines: Array<[string, string]> = [
    ['data folder', status.data_dir],
    ['enrolled', status.agent ? `yes, as ${status.agent.name} (${status.agent.organization}/${status.agent.location}), agent id ${status.agent.agent_id}` : 'no (run "pswm enroll")'],
    ['server', status.server ?? '-'],
    ['key protection', status.key_protection],
    ['last iteration', last ? `${last.finished_at} ${last.result}${last.dry_run ? ' (dry run)' : ''}${last.source === 'cache' ? ' (offline, cached desired state)' : ''}${last.error ? `: ${last.error}` : ''}` : 'never'],
    ['last results', last?.counts && Object.keys(last.counts).length ? Object.entries(last.counts).map(([k, n]) => `${n} ${k}`).join(', ') : '-'],
    ...(last?.failed_items ?? []).map((item): [string, string] => ['failed', `${item.kind} ${item.name}${item.reason ? `: ${item.reason.split('\n')[0]}` : ''}`]),
    ['applied revision', status.applied_revision ?? '-'],
    ['pending reports', `${status.pending_reports}${status.pending_failures ? ` (the server failed on ${Object.keys(status.pending_failures).length} of them; set aside after 3 failures)` : ''}`],
    ['rejected reports', `${status.rejected_reports.length}${status.rejected_reports.length ? ' in outbox-rejected/' : ''}`],
    ...status.rejected_reports.slice(0, SHOWN_REJECTED).map((r): [string, string] => ['', `${r.rejected_at ?? '?'} ${r.id}: ${r.reason}`]),
    ['critical events', status.critical_events.length ? '' : 'none'],
    ...status.critical_events.map((line): [string, string] => ['', line]),
  ];
  return lines.map(([label, value]) => `${(label ? `${label}:` : '').padEnd(18)}${value}`.trimEnd() + '\n').join('');
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

// pswm enroll: prove possession of the agent key to a server (token, OTP or the approval queue) and
// remember the answer in config.json.
import os from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { EXIT, UsageError, parseCommandArgs, type Command } from '@pswm/schemas/cli-usage';
import { enroll, fetchRequestStatus, type EnrollRequest } from '../api/enroll-client.ts';
import { openLogger } from '../logs/logger.ts';
import { recordCriticalEvent } from '../service/event-log.ts';
import { isTransient } from '../api/http.ts';
import { loadAgentConfig, saveAgentConfig } from '../identity/config.ts';
import { generateAgentKeys, KeyError, loadAgentKeys, saveAgentKeys, type AgentKeys } from '../identity/key-pair.ts';
import { dataPaths, type DataPaths } from '../paths.ts';
import { currentPlatform } from '../platform/platform.ts';
import { DATA_DIR_HELP, DATA_DIR_OPTION, dataDirFrom } from './data-dir.ts';

const HELP = `Usage: pswm enroll --server URL (--token T | --code C | --queue) [--name N] [options]

Enrol this machine with a pswm server. The agent signs a fresh server nonce with its private key
(created now if "pswm gencert" was not run) and stores the result in config.json.

  --token T        One-time enrollment token from "pswm-server agent create".
  --code C         OTP code from "pswm-server otp create"; needs a name (default: the host name).
  --queue          Ask to join and wait until an admin approves ("pswm-server queue approve") or rejects.

Options:
  --server URL     The server, e.g. https://pswm.example.com (required).
  --name N         Agent name (default: the host name, lowercased). With --token it must match.
  --poll-seconds S Queue: seconds between status checks (default 5).
  --timeout S      Queue: give up waiting after S seconds (default 3600); running enroll again resumes.
  --force          Enrol again although config.json says this agent is enrolled.
${DATA_DIR_HELP}  --help           Show this help.

Exit status: 0 enrolled, 1 refused, rejected, timed out or unreachable, 2 usage error.
`;

const OPTIONS = {
  server: { type: 'string' },
  token: { type: 'string' },
  code: { type: 'string' },
  queue: { type: 'boolean' },
  name: { type: 'string' },
  'poll-seconds': { type: 'string' },
  timeout: { type: 'string' },
  force: { type: 'boolean' },
  ...DATA_DIR_OPTION,
} as const;

/** The policy's agent-name rule (1-253 letters, digits, '.', '_', '-') applied to a host name. */
export function nameFromHostname(hostname: string): string {
  return hostname.toLowerCase().replace(/[^a-z0-9._-]/g, '-').slice(0, 253) || 'agent';
}

function positiveSeconds(text: string | undefined, flag: string, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new UsageError(`--${flag} must be a positive number of seconds, not "${text}"`);
  return value;
}

export const enrollCommand: Omit<Command, 'summary'> = {
  name: 'enroll',
  help: HELP,
  async run(args) {
    const parsed = parseCommandArgs(this, args, OPTIONS, 0);
    if (!parsed) return EXIT.ok;
    const v = parsed.values;
    if (!v.server) throw new UsageError('--server is required');
    let server: string;
    try {
      server = new URL(v.server).toString();
    } catch {
      throw new UsageError(`--server must be a URL, not "${v.server}"`);
    }
    const methods = [v.token !== undefined && 'token', v.code !== undefined && 'otp', v.queue && 'queue'].filter(Boolean);
    if (methods.length !== 1) throw new UsageError('give exactly one of --token, --code or --queue');
    const pollSeconds = positiveSeconds(v['poll-seconds'], 'poll-seconds', 5);
    const timeoutSeconds = positiveSeconds(v.timeout, 'timeout', 3600);

    const paths = dataPaths(dataDirFrom(v));
    const existing = await loadAgentConfig(paths.config);
    if (existing && !v.force) {
      process.stderr.write(`pswm enroll: already enrolled as "${existing.name}" with ${existing.server}; use --force to enrol again\n`);
      return EXIT.failed;
    }
    const keys = await keysForEnrollment(paths);
    const hostname = os.hostname();
    const request: EnrollRequest =
      v.token !== undefined ? { method: 'token', token: v.token, ...(v.name ? { name: v.name } : {}), hostname }
      : { method: v.code !== undefined ? 'otp' : 'queue', ...(v.code !== undefined ? { code: v.code } : {}), name: v.name ?? nameFromHostname(hostname), hostname };
    request.facts = { hostname, os: { family: currentPlatform() } };

    const answer = await enroll(server, keys, request);
    let enrolled;
    if (answer.status === 'pending') {
      process.stdout.write(`enrollment request ${answer.request_id} is waiting for approval (pswm-server queue approve ${answer.request_id} --org O --location L)\n`);
      const decided = await waitForDecision(server, keys, answer.request_id, pollSeconds, timeoutSeconds);
      if (decided.status === 'rejected') {
        process.stderr.write(`pswm enroll: request ${answer.request_id} was rejected by an admin\n`);
        return EXIT.failed;
      }
      if (decided.status === 'pending') {
        process.stderr.write(`pswm enroll: request ${answer.request_id} still pending after ${timeoutSeconds} s; run the same command again to keep waiting\n`);
        return EXIT.failed;
      }
      enrolled = decided;
    } else {
      enrolled = answer;
    }
    await saveAgentConfig(paths.config, {
      server,
      agent_id: enrolled.agent_id,
      name: enrolled.name,
      organization: enrolled.organization,
      location: enrolled.location,
      enrolled_at: new Date().toISOString(),
      // pinned: self-update accepts only builds signed with this key
      ...(enrolled.release_public_key ? { release_public_key: enrolled.release_public_key } : {}),
    });
    await logEnrollment(paths, { method: request.method, server, agent_id: enrolled.agent_id, name: enrolled.name, organization: enrolled.organization, location: enrolled.location });
    process.stdout.write(`enrolled as ${enrolled.name} (${enrolled.organization}/${enrolled.location}), agent id ${enrolled.agent_id}\n`);
    return EXIT.ok;
  },
};

async function keysForEnrollment(paths: DataPaths): Promise<AgentKeys> {
  try {
    return await loadAgentKeys(paths.privateKey);
  } catch (error) {
    if (!(error instanceof KeyError && error.code === 'KEY_MISSING')) throw error;
  }
  const keys = generateAgentKeys();
  await saveAgentKeys(keys, paths);
  process.stdout.write(`generated a new key pair in ${paths.privateKey}\n`);
  return keys;
}

const PROGRESS_EVERY_MS = 30_000;

async function waitForDecision(server: string, keys: AgentKeys, requestId: string, pollSeconds: number, timeoutSeconds: number) {
  const started = Date.now();
  let lastProgress = started;
  while (true) {
    try {
      const status = await fetchRequestStatus(server, keys, requestId);
      if (status.status !== 'pending') return status;
    } catch (error) {
      if (!isTransient(error)) throw error;
      process.stdout.write(`server not reachable (${(error as Error).message}); still waiting\n`);
    }
    const waited = Date.now() - started;
    if (waited >= timeoutSeconds * 1000) return { status: 'pending' as const };
    if (Date.now() - lastProgress >= PROGRESS_EVERY_MS) {
      lastProgress = Date.now();
      process.stdout.write(`still waiting for approval of ${requestId} (${Math.round(waited / 1000)} s)\n`);
    }
    await delay(Math.min(pollSeconds * 1000, timeoutSeconds * 1000 - waited));
  }
}

/** Enrollment is a critical event: in agent.log and critical.log, which goes to the server with the
 * first report, and in the Windows Event Log. */
async function logEnrollment(paths: DataPaths, fields: Record<string, string>): Promise<void> {
  const { settingsDefaults } = await import('@pswm/schemas/json-schema');
  const log = openLogger({ dir: paths.logs, settings: settingsDefaults().logging });
  try {
    await recordCriticalEvent(log, 'enrolled with the server', { fields, summary: `enrolled with the server ${fields.server ?? ''} as ${fields.name ?? '?'} (agent id ${fields.agent_id ?? '?'}, ${fields.method ?? '?'})`, type: 'INFORMATION' });
  } finally {
    log.close();
  }
}

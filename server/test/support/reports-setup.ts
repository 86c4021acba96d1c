// Shared setup of the report tests: a fresh database, one agent API instance (last_seen_at flushed only
// on close unless a test says otherwise), admin and viewer tokens, and real enrolled agents that post
// with their own access tokens.
import { randomUUID } from 'node:crypto';
import type { TestContext } from 'node:test';
import type { AgentApiOptions } from '../../src/api/agent-api.ts';
import { createToken } from '../../src/auth/tokens.ts';
import { enrolAgent as enrolAgentAs, enrollmentClient } from './agent-identity.ts';
import { startAgentApiInstance } from './agent-api-instance.ts';
import { freshDatabase } from './database.ts';

export const REPORT_TABLES = [
  'reports', 'script_runs', 'choco_runs', 'report_drift', 'agent_drift', 'agent_facts',
  'agent_choco_packages', 'agent_metrics_latest', 'agent_metrics',
] as const;

export interface Answer { status: number; body: any }

export interface TestAgent {
  id: string;
  name: string;
  accessToken: string;
  post(path: string, body: unknown): Promise<Answer>;
}

export async function reportsSetup(t: TestContext, options: Omit<AgentApiOptions, 'sql' | 'authority' | 'keys'> = {}) {
  const db = await freshDatabase(t);
  const server = await startAgentApiInstance(db, t, { lastSeenIntervalMs: 3_600_000, ...options });
  const tokenOf = async (role: 'admin' | 'viewer') =>
    (await db.sql.begin((tx) => createToken(tx, { role, name: `test-${role}`, actor: 'test' }))).token;
  const adminToken = await tokenOf('admin');
  const viewerToken = await tokenOf('viewer');
  const client = enrollmentClient(server.url);

  /** A raw request: `body` is sent as given, so tests can send anything. */
  const send = async (method: string, path: string, init: { body?: string; headers?: Record<string, string> } = {}): Promise<Answer> => {
    const response = await fetch(new URL(path, server.url), { method, headers: init.headers, body: init.body });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch { /* not JSON: keep the text */ }
    return { status: response.status, body };
  };
  const postJson = (path: string, body: unknown, token: string) =>
    send('POST', path, { body: JSON.stringify(body), headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` } });
  const viewer = (path: string) => send('GET', path, { headers: { authorization: `Bearer ${viewerToken}` } });
  const admin = (method: string, path: string, body?: object) => client.call(method, path, { body, headers: { authorization: `Bearer ${adminToken}` } });

  /** Creates, enrols and logs in an agent the way a real one does (token enrollment, signed assertion). */
  const enrolAgent = async (name: string, placement = { organization: 'contoso', location: 'paris' }): Promise<TestAgent> => {
    const agent = await enrolAgentAs(server.url, adminToken, name, placement);
    return { ...agent, post: (path, body) => postJson(path, body, agent.accessToken) };
  };

  const rowCounts = async (): Promise<Record<string, number>> => {
    const counts: Record<string, number> = {};
    for (const table of REPORT_TABLES) counts[table] = (await db.sql.unsafe(`select count(*)::int as n from ${table}`))[0].n;
    return counts;
  };

  return { db, sql: db.sql, server, adminToken, viewerToken, send, postJson, viewer, admin, enrolAgent, rowCounts };
}

const SHA = (c: string) => c.repeat(64);

/** A complete, valid report; `overrides` replace top-level fields. */
export function sampleReport(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const started = '2025-03-01T10:00:00.000Z';
  return {
    id: randomUUID(),
    revision: 'a1b2c3d4e5f6',
    document: SHA('d'),
    started_at: started,
    finished_at: '2025-03-01T10:00:30.000Z',
    dry_run: false,
    facts: { 'os.family': 'windows', 'os.version': '10.0.19045', cpu: { cores: 8 }, tags: ['kiosk', 'paris'] },
    script_runs: [
      scriptRun({ script: 'disable-smbv1', phase: 'check', exit_code: 1, stdout: 'SMBv1 enabled\n', started_at: '2025-03-01T10:00:01.000Z' }),
      scriptRun({ script: 'disable-smbv1', phase: 'apply', exit_code: 0, stdout: 'disabled\n', started_at: '2025-03-01T10:00:02.000Z' }),
    ],
    choco_runs: [{
      id: randomUUID(), operation: 'install', package: 'git', version: '2.44.0', exit_code: 3010, output: 'installed git 2.44.0',
      reboot_required: true, duration_ms: 12000, started_at: '2025-03-01T10:00:10.000Z',
    }],
    drift: [
      { kind: 'script', name: 'disable-smbv1', status: 'changed', reason: 'check failed; script fixed it' },
      { kind: 'package', name: 'git', status: 'changed' },
      { kind: 'package', name: '7zip', status: 'failed', reason: 'exit code 1' },
      { kind: 'external_fact', name: 'inventory', status: 'in_sync' },
    ],
    choco_packages: [{ name: 'git', version: '2.44.0', pinned: false }, { name: 'chocolatey', version: '2.2.2', pinned: true }],
    ...overrides,
  };
}

export function scriptRun(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: randomUUID(), script: 'disable-smbv1', sha256: SHA('a'), phase: 'apply', exit_code: 0, timed_out: false,
    stdout: '', stderr: '', stdout_truncated: false, stderr_truncated: false, duration_ms: 250,
    started_at: '2025-03-01T10:00:02.000Z', ...overrides,
  };
}

export function sampleHeartbeat(at: string, usagePercent = 12.5): Record<string, unknown> {
  return {
    at,
    metrics: {
      cpu: { usage_percent: usagePercent, cores: 8, model: 'Xeon' },
      memory: { total_bytes: 16e9, used_bytes: 4e9 },
      disks: [{ mount: 'C:', total_bytes: 500e9, used_bytes: 200e9 }],
      gpus: [{ name: 'RTX A2000', utilization_percent: 3, memory_total_bytes: 6e9, memory_used_bytes: 1e9, temperature_c: 41 }],
    },
  };
}

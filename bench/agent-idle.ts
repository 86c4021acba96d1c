// Idle memory of a real `pswm agent`: a pswm-server on a fresh PostgreSQL database, an agent
// created and enrolled through the CLIs, then the agent process sampled once its first iteration
// is done and delivered.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { freshDatabase } from '../server/test/support/database.ts';
import { runServerCommand, startServerProcess } from '../server/test/support/server-process.ts';

const AGENT_MAIN = fileURLToPath(new URL('../agent/src/cli/main.ts', import.meta.url));

export interface MemorySample {
  rssMb: number;
  /** Private memory (heap, stacks, malloc): what each extra agent process really costs. */
  anonMb: number;
  /** Proportional set size: RSS with shared pages (the node binary) split between processes. */
  pssMb: number;
}

export interface IdleMeasurement {
  samples: MemorySample[];
  note: string;
}

async function memoryOf(pid: number): Promise<MemorySample> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const rollup = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (text: string, key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  return { rssMb: kb(status, 'VmRSS') / 1024, anonMb: kb(status, 'RssAnon') / 1024, pssMb: kb(rollup, 'Pss') / 1024 };
}

function runAgentCli(args: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [AGENT_MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c));
  child.stderr.on('data', (c: Buffer) => (output += c));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, output })));
}

async function waitForLogLine(file: string, pattern: RegExp, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (pattern.test(await readFile(file, 'utf8').catch(() => ''))) return;
    await delay(200);
  }
  throw new Error(`timed out waiting for ${pattern} in ${file}`);
}

/** Starts `pswm agent` (with extra Node flags, if any), waits for its first delivered report and
 * `settleMs`, then samples its memory once a second. */
export async function measureIdleAgent(opts: { samples: number; settleMs: number; nodeFlags?: string[] }): Promise<IdleMeasurement> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'pswm-bench-idle-'));
  const db = await freshDatabase(undefined, { migrate: false });
  const serverDir = path.join(work, 'server');
  const agentDir = path.join(work, 'agent');
  const server = await startServerProcess({ dataDir: serverDir, env: { DATABASE_URL: db.url } });
  let agent: ChildProcess | undefined;
  try {
    const adminToken = (await readFile(path.join(serverDir, 'initial-admin-token'), 'utf8')).trim();
    const created = await runServerCommand(['agent', 'create', 'bench-idle', '--org', 'fabrikam', '--location', 'lab-linux', '--server', server.url], { PSWM_ADMIN_TOKEN: adminToken });
    const token = created.stdout.split('\n')[0].trim();
    if (created.code !== 0 || !token) throw new Error(`agent create failed: ${created.stderr}`);
    const enrolled = await runAgentCli(['enroll', '--server', server.url, '--token', token, '--name', 'bench-idle', '--data-dir', agentDir]);
    if (enrolled.code !== 0) throw new Error(`enroll failed: ${enrolled.output}`);
    agent = spawn(process.execPath, [...(opts.nodeFlags ?? []), AGENT_MAIN, 'agent', '--data-dir', agentDir], { stdio: 'ignore' });
    await waitForLogLine(path.join(agentDir, 'logs', 'agent.log'), /"msg":"reports delivered"/, 60_000);
    await delay(opts.settleMs);
    const samples: MemorySample[] = [];
    for (let i = 0; i < opts.samples; i++) {
      samples.push(await memoryOf(agent.pid!));
      await delay(1000);
    }
    const log = await readFile(path.join(agentDir, 'logs', 'agent.log'), 'utf8');
    const outcome = /"msg":"iteration finished","result":"([^"]+)"/.exec(log)?.[1] ?? 'unknown';
    return { samples, note: `first iteration result: ${outcome}; WebSocket ${/WebSocket connected/.test(log) ? 'connected' : 'not connected'}` };
  } finally {
    agent?.kill('SIGTERM');
    await server.stop('SIGKILL');
    await db.drop();
    await rm(work, { recursive: true, force: true });
  }
}

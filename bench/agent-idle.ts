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

export const AGENT_SOURCES_MAIN = fileURLToPath(new URL('../agent/src/cli/main.ts', import.meta.url));
const BUILD_DIST = fileURLToPath(new URL('../agent/scripts/build-dist.ts', import.meta.url));

/** Preload (a data: URL, so it adds no TypeScript): on SIGUSR2, writes the process's own view of its
 * memory to $PSWM_BENCH_MEMORY — V8's heap, external memory, array buffers. */
const MEMORY_PROBE = `data:text/javascript,${encodeURIComponent(
  "process.on('SIGUSR2', () => process.getBuiltinModule('node:fs').writeFileSync(process.env.PSWM_BENCH_MEMORY, JSON.stringify(process.memoryUsage())));",
)}`;

export interface MemorySample {
  rssMb: number;
  /** Private memory (heap, stacks, malloc): what each extra agent process really costs. */
  anonMb: number;
  /** Proportional set size: RSS with shared pages (the node binary) split between processes. */
  pssMb: number;
}

/** process.memoryUsage() of the agent, in MB. */
export interface MemoryBreakdown {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

export interface IdleMeasurement {
  samples: MemorySample[];
  breakdown?: MemoryBreakdown;
  note: string;
}

async function memoryOf(pid: number): Promise<MemorySample> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const rollup = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (text: string, key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  return { rssMb: kb(status, 'VmRSS') / 1024, anonMb: kb(status, 'RssAnon') / 1024, pssMb: kb(rollup, 'Pss') / 1024 };
}

function runAgentCli(args: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [AGENT_SOURCES_MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
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

async function waitForFile(file: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await readFile(file).then(() => true, () => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${file}`);
    await delay(100);
  }
}

/** The compiled copy of the agent (what the installed service runs), built into `dir`. */
export async function buildCompiledAgent(dir: string): Promise<string> {
  const build = spawn(process.execPath, [BUILD_DIST, '--out', dir], { stdio: ['ignore', 'ignore', 'inherit'] });
  const code = await new Promise((resolve) => build.once('close', resolve));
  if (code !== 0) throw new Error(`agent/scripts/build-dist.ts exited with ${code}`);
  return path.join(dir, 'agent', 'src', 'cli', 'main.js');
}

/** A Node process doing nothing, for the baseline. */
export async function measureBareNode(samples: number, settleMs: number): Promise<MemorySample[]> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 60_000)'], { stdio: 'ignore' });
  try {
    await delay(settleMs);
    const result: MemorySample[] = [];
    for (let i = 0; i < samples; i++) {
      result.push(await memoryOf(child.pid!));
      await delay(1000);
    }
    return result;
  } finally {
    child.kill('SIGTERM');
  }
}

async function askBreakdown(agent: ChildProcess, file: string): Promise<MemoryBreakdown> {
  agent.kill('SIGUSR2');
  await waitForFile(file, 10_000);
  const usage = JSON.parse(await readFile(file, 'utf8')) as Record<keyof MemoryBreakdown, number>;
  return Object.fromEntries(Object.entries(usage).map(([key, bytes]) => [key, bytes / 2 ** 20])) as unknown as MemoryBreakdown;
}

/** Starts `pswm agent` from `entry` (with extra Node flags, if any) or a single-file `executable`,
 * waits for its first delivered report and `settleMs`, then samples its memory once a second and
 * asks it for its own breakdown (not a single-file build: it takes no --import). */
export async function measureIdleAgent(opts: ({ entry: string; nodeFlags?: readonly string[] } | { executable: string }) & { samples: number; settleMs: number }): Promise<IdleMeasurement> {
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
    const breakdownFile = path.join(work, 'memory.json');
    const [command, ...args] = 'executable' in opts ? [opts.executable] : [process.execPath, '--import', MEMORY_PROBE, ...(opts.nodeFlags ?? []), opts.entry];
    agent = spawn(command, [...args, 'agent', '--data-dir', agentDir], {
      stdio: 'ignore',
      env: { ...process.env, PSWM_BENCH_MEMORY: breakdownFile, PSWM_STATE_DIR: path.join(work, 'demo-state') },
    });
    await waitForLogLine(path.join(agentDir, 'logs', 'agent.log'), /"msg":"reports delivered"/, 60_000);
    await delay(opts.settleMs);
    const samples: MemorySample[] = [];
    for (let i = 0; i < opts.samples; i++) {
      samples.push(await memoryOf(agent.pid!));
      await delay(1000);
    }
    const breakdown = 'executable' in opts ? undefined : await askBreakdown(agent, breakdownFile);
    const log = await readFile(path.join(agentDir, 'logs', 'agent.log'), 'utf8');
    const outcome = /"msg":"iteration finished","result":"([^"]+)"/.exec(log)?.[1] ?? 'unknown';
    return { samples, breakdown, note: `first iteration result: ${outcome}; WebSocket ${/WebSocket connected/.test(log) ? 'connected' : 'not connected'}` };
  } finally {
    agent?.kill('SIGTERM');
    await server.stop('SIGKILL');
    await db.drop();
    await rm(work, { recursive: true, force: true });
  }
}

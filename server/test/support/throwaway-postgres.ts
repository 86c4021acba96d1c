// A PostgreSQL cluster of the test's own (initdb in a temp folder, a free port, trust auth), for tests
// that stop and restart the database — never the shared one on 5432. Run as root, the cluster's
// programs run as the `postgres` user (initdb refuses root). It is stopped and removed in t.after, and
// killed when the test process exits whatever happened.
import { execFileSync, spawn } from 'node:child_process';
import { chown, mkdtemp, readdir, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { freePort } from './free-port.ts';

export interface ThrowawayPostgres {
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
}

const PG_TIMEOUT_MS = 60_000;
const running = new Set<string>();
process.on('exit', () => {
  for (const dataDir of running) {
    try {
      const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      if (pid) process.kill(pid, 'SIGQUIT'); // immediate shutdown
    } catch { /* already gone */ }
  }
});

async function binDir(): Promise<string> {
  const versions = (await readdir('/usr/lib/postgresql')).sort((a, b) => Number(b) - Number(a));
  if (!versions.length) throw new Error('no PostgreSQL binaries under /usr/lib/postgresql');
  return `/usr/lib/postgresql/${versions[0]}/bin`;
}

function postgresUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

function run(program: string, args: string[], user: { uid: number; gid: number } | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { ...user, stdio: ['ignore', 'pipe', 'pipe'], timeout: PG_TIMEOUT_MS, killSignal: 'SIGKILL' });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${program} ${args.join(' ')} exited ${code}: ${output}`))));
  });
}

export async function throwawayPostgres(t: TestContext): Promise<ThrowawayPostgres> {
  const bin = await binDir();
  const user = postgresUser();
  const root = await mkdtemp(join(tmpdir(), 'pswm-pgcluster-'));
  const dataDir = join(root, 'data');
  t.after(async () => {
    if (running.has(dataDir)) await pgCtl('-m', 'immediate', 'stop').catch(() => {});
    running.delete(dataDir);
    await rm(root, { recursive: true, force: true });
  });
  if (user) await chown(root, user.uid, user.gid);
  const port = await freePort();
  await run(`${bin}/initdb`, ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8'], user);
  const options = `-p ${port} -k ${root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
  const pgCtl = (...args: string[]) => run(`${bin}/pg_ctl`, ['-D', dataDir, '-w', '-t', '60', ...args], user);
  const cluster: ThrowawayPostgres = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async start() {
      await pgCtl('-l', join(root, 'postgres.log'), '-o', options, 'start');
      running.add(dataDir);
    },
    async stop() {
      await pgCtl('-m', 'fast', 'stop');
      running.delete(dataDir);
    },
  };
  await cluster.start();
  return cluster;
}

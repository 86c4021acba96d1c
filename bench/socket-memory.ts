// `npm run bench:socket-memory [-- --sockets 2000]`: what one agent socket keeps alive in a real
// pswm-server. The server runs with --heapsnapshot-signal; a heap snapshot (a full GC first) is taken
// with no agent socket and again with --sockets sockets open (opened from a separate process with
// access tokens signed by the server's key), and the retained heap per socket, the constructors with
// at least one more object per socket, and the count of objects that should not outlive the upgrade
// (IncomingMessage, ServerResponse) are printed.
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createAgentAuthority } from '../server/src/agents/access-token.ts';
import { readSecretKey } from '../server/src/agents/secret-key.ts';
import { deriveServerKeys } from '../server/src/agents/server-secret.ts';
import { createLogger } from '../server/src/logger.ts';
import { freshDatabase } from '../server/test/support/database.ts';
import { sharedSecretKey, startServerProcess } from '../server/test/support/server-process.ts';
import { appliedRevision, templateRepo, until } from '../server/test/reconcile-fixtures.ts';
import { rssBytesOf } from './fleet-stats.ts';
import { createCleanups } from './cleanups.ts';

const { values } = parseArgs({ options: { sockets: { type: 'string', default: '2000' } } });
const SOCKETS = Number(values.sockets);
const CLIENT = fileURLToPath(new URL('./socket-memory-client.ts', import.meta.url));
const WATCHED = ['IncomingMessage', 'ServerResponse', 'WebSocket', 'Socket'];

const progress = (line: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const cleanups = createCleanups(progress);
const { hooks } = cleanups;

try {
  const loadBefore = os.loadavg()[0];
  const db = await freshDatabase(hooks);
  const repo = await templateRepo(hooks);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'pswm-socket-memory-'));
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  const keyEnv = await sharedSecretKey(dataDir);
  const server = await startServerProcess({
    dataDir, args: ['--policy-repo', repo.dir, '--poll-interval', '3600'],
    env: { DATABASE_URL: db.url, PSWM_RATE_LIMIT: '0', ...keyEnv, NODE_OPTIONS: `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${dataDir}` },
  });
  cleanups.push(() => server.stop());
  await until('the template to be applied', () => appliedRevision(db.sql).then((r) => r ?? undefined), 120_000);

  const agents = await db.sql<{ id: string; name: string }[]>`
    insert into agents (name, organization, location, public_key, status, enrolled_at)
    select 'mem-' || lpad(g::text, 6, '0'), 'contoso', 'paris', 'unused key', 'active', now() from generate_series(1, ${SOCKETS}) g
    returning id, name`;
  const secret = deriveServerKeys((await readSecretKey(keyEnv.PSWM_SECRET_KEY_FILE, createLogger({ logLevel: 'silent' })))!).accessToken;
  const authority = await createAgentAuthority(db.sql, { publish: async () => {}, subscribe: () => () => {} }, secret);
  const tokens = agents.map((a) => authority.issue({ agentId: a.id, name: a.name, organization: 'contoso', location: 'paris' }).token);
  authority.close();

  await sleep(3000);
  const before = await snapshot(server.pid, dataDir);
  const rssBefore = await rssBytesOf(server.pid);
  progress(`opening ${SOCKETS} sockets`);
  const client = spawn(process.execPath, [CLIENT, server.url.replace(/^http/, 'ws')], { stdio: ['pipe', 'pipe', 'inherit'] });
  cleanups.push(() => client.kill('SIGKILL'));
  client.stdin.end(JSON.stringify(tokens));
  const opened = await new Promise<number>((resolve, reject) => {
    client.stdout.on('data', (chunk: Buffer) => {
      const match = /connected (\d+)/.exec(String(chunk));
      if (match) resolve(Number(match[1]));
    });
    client.once('exit', (code) => reject(new Error(`the client exited with ${code}`)));
  });
  await sleep(3000);
  const after = await snapshot(server.pid, dataDir);
  const rssAfter = await rssBytesOf(server.pid);
  const lines = [
    `${opened} of ${SOCKETS} sockets open; load average ${loadBefore.toFixed(2)} before, ${os.loadavg()[0].toFixed(2)} after.`,
    `heap after a full GC: ${(before.total / 2 ** 20).toFixed(1)} MiB → ${(after.total / 2 ** 20).toFixed(1)} MiB: ${((after.total - before.total) / opened).toFixed(0)} bytes per socket`,
    `RSS: ${(rssBefore / 2 ** 20).toFixed(1)} MiB → ${(rssAfter / 2 ** 20).toFixed(1)} MiB: ${((rssAfter - rssBefore) / opened).toFixed(0)} bytes per socket`,
    'objects by constructor, those that grew by at least one per socket:',
    ...Object.keys(after.counts).filter((name) => after.counts[name] - (before.counts[name] ?? 0) >= opened)
      .sort((a, b) => after.counts[b] - after.counts[a]).map((name) => `  ${name}: ${before.counts[name] ?? 0} → ${after.counts[name]}`),
    ...WATCHED.map((name) => `${name}: ${before.counts[name] ?? 0} → ${after.counts[name] ?? 0}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  await cleanups.runAll();
}

/** Asks the server for a heap snapshot and sums it: total self size and objects by constructor. */
async function snapshot(pid: number, dir: string): Promise<{ total: number; counts: Record<string, number> }> {
  const existing = new Set(await readdir(dir));
  process.kill(pid, 'SIGUSR2');
  const file = await until('the heap snapshot', async () => {
    const found = (await readdir(dir)).find((f) => f.endsWith('.heapsnapshot') && !existing.has(f));
    if (!found) return undefined;
    // Written in one go once complete: wait until it parses.
    try {
      return JSON.parse(await readFile(path.join(dir, found), 'utf8')) as HeapSnapshot;
    } catch {
      return undefined;
    }
  }, 120_000, 500);
  const fields = file.snapshot.meta.node_fields;
  const types = file.snapshot.meta.node_types[0] as string[];
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f));
  let total = 0;
  const counts: Record<string, number> = {};
  for (let i = 0; i < file.nodes.length; i += fields.length) {
    total += file.nodes[i + sizeAt];
    if (types[file.nodes[i + typeAt]] !== 'object') continue;
    const name = file.strings[file.nodes[i + nameAt]];
    counts[name] = (counts[name] ?? 0) + 1;
  }
  await rm(path.join(dir, (await readdir(dir)).find((f) => f.endsWith('.heapsnapshot') && !existing.has(f))!));
  return { total, counts };
}

interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: unknown[] } };
  nodes: number[];
  strings: string[];
}

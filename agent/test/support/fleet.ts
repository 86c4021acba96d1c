// End-to-end fixtures: a real `pswm-server start` process (fresh PostgreSQL database, the demo
// policy repository from policy-repo-template/) and real `pswm` agent processes, each with its own
// PSWM_HOME.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freshDatabase, type TestDatabase } from '../../../server/test/support/database.ts';
import { runGit } from '../../../server/test/support/git-http-server.ts';
import { runServerCommand, startServerProcess, type ServerProcess } from '../../../server/test/support/server-process.ts';
import { commitFiles } from '../../../server/test/support/git-http-server.ts';
import { makeTempDir } from './temp-dir.ts';

const PSWM_MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

export interface Fleet {
  url: string;
  server: ServerProcess;
  dataDir: string;
  databaseUrl: string;
  /** The server's database, for checking what it stored. */
  sql: TestDatabase['sql'];
  /** `pswm-server <args> --server URL` with the initial admin token. */
  admin(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** Stops the server process; start() brings up a new one on the same database and data folder. */
  stop(): Promise<void>;
  start(): Promise<void>;
  get(path: string): Promise<any>;
}

export async function startFleet(t: TestContext, opts: { serverArgs?: string[] } = {}): Promise<Fleet> {
  // not freshDatabase(t): the database must be dropped after the server stopped, or the server's
  // shutdown waits on a connection to a database that is gone
  const db = await freshDatabase();
  const dataDir = await makeTempDir(t, 'pswm-e2e-server-');
  const env = { DATABASE_URL: db.url, PSWM_LOG_LEVEL: 'info' };
  let server = await startServerProcess({ dataDir, env, args: opts.serverArgs });
  // a restarted server must come back on the same port: the agents know its URL
  const port = new URL(server.url).port;
  t.after(async () => {
    await server.stop();
    await db.drop();
  });
  const adminToken = (await readFile(path.join(dataDir, 'initial-admin-token'), 'utf8')).trim();
  const fleet: Fleet = {
    get url() {
      return server.url;
    },
    get server() {
      return server;
    },
    dataDir,
    databaseUrl: db.url,
    sql: db.sql,
    admin: (args) => runServerCommand([...args, '--server', server.url], { PSWM_ADMIN_TOKEN: adminToken, PSWM_LOG_LEVEL: 'warn' }),
    async stop() {
      await server.stop();
    },
    async start() {
      server = await startServerProcess({ dataDir, env, args: ['--port', port, ...(opts.serverArgs ?? [])] });
    },
    async get(apiPath) {
      const response = await fetch(new URL(apiPath, server.url), { headers: { authorization: `Bearer ${adminToken}` } });
      if (!response.ok) throw new Error(`GET ${apiPath}: ${response.status} ${await response.text()}`);
      return response.json();
    },
  };
  return fleet;
}

export interface PswmResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** One `pswm` agent process with its data folder. */
export async function agentHome(t: TestContext) {
  const home = await makeTempDir(t, 'pswm-e2e-agent-');
  const children = new Set<ChildProcess>();
  t.after(() => {
    for (const child of children) child.kill('SIGKILL');
  });
  const env = (extra: Record<string, string> = {}) => ({ ...process.env, PSWM_HOME: home, PSWM_STATE_DIR: path.join(home, 'demo-state'), ...extra });

  /** Starts `pswm <args>`; `waitFor` resolves when a line of its output matches. */
  const start = (args: string[], extra: Record<string, string> = {}) => {
    const child = spawn(process.execPath, [PSWM_MAIN, ...args], { env: env(extra), stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    const listeners = new Set<() => void>();
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk;
      listeners.forEach((l) => l());
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk;
      listeners.forEach((l) => l());
    });
    const exited = new Promise<PswmResult>((resolve) => child.once('close', (code, signal) => {
      children.delete(child);
      resolve({ code, signal, stdout, stderr });
    }));
    return {
      child,
      exited,
      output: () => stdout + stderr,
      /** Resolves with the first match of `pattern` in the output from `fromOffset` on. */
      waitFor(pattern: RegExp, timeoutMs = 30_000, fromOffset = 0): Promise<RegExpExecArray> {
        return new Promise((resolve, reject) => {
          const check = () => {
            const match = pattern.exec((stdout + stderr).slice(fromOffset));
            if (!match) return false;
            cleanup();
            resolve(match);
            return true;
          };
          const timer = setTimeout(() => {
            cleanup();
            reject(new Error(`no ${pattern} in pswm output within ${timeoutMs} ms:\n${stdout}\n${stderr}`));
          }, timeoutMs);
          const cleanup = () => {
            clearTimeout(timer);
            listeners.delete(onData);
          };
          const onData = () => void check();
          if (!check()) listeners.add(onData);
        });
      },
    };
  };
  const run = (args: string[], extra?: Record<string, string>) => start(args, extra).exited;
  return { home, start, run };
}

/** A data folder enrolled by token as `name` in `place` ("org/location"). */
export async function enrolledAgent(t: TestContext, fleet: Fleet, name: string, place: string) {
  const [org, location] = place.split('/');
  const created = await fleet.admin(['agent', 'create', name, '--org', org, '--location', location]);
  if (created.code !== 0) throw new Error(`agent create ${name}: ${created.stderr}`);
  const agent = await agentHome(t);
  const enrolled = await agent.run(['enroll', '--server', fleet.url, '--token', created.stdout.trim()]);
  if (enrolled.code !== 0) throw new Error(`pswm enroll: ${enrolled.stderr}`);
  return agent;
}

/** The report ids of the "iteration finished" log lines in a pswm output. */
export function reportIdsIn(output: string): string[] {
  return [...output.matchAll(/"msg":"iteration finished"[^\n]*?"report":"([0-9a-f-]{36})"/g)].map((m) => m[1]);
}

/** Commits `files` to the server's policy repository and waits until that revision is applied. */
export async function commitPolicy(fleet: Fleet, files: Record<string, string>, message: string): Promise<void> {
  const revision = await commitFiles(path.join(fleet.dataDir, 'policy-repo'), files, message);
  const deadline = Date.now() + 60_000;
  while (!JSON.stringify(await fleet.get('/api/v1/revision')).includes(revision)) {
    if (Date.now() > deadline) throw new Error(`revision ${revision} not applied within 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Edits one file of the fleet's demo policy repository, commits it and waits until the server
 * applied that commit. */
export async function editPolicy(fleet: Fleet, file: string, edit: (text: string) => string, message: string): Promise<void> {
  const repo = path.join(fleet.dataDir, 'policy-repo');
  const target = path.join(repo, file);
  await writeFile(target, edit(await readFile(target, 'utf8')));
  await runGit(['commit', '--quiet', '-am', message], repo);
  const head = await runGit(['rev-parse', 'HEAD'], repo);
  const deadline = Date.now() + 30_000;
  while ((await fleet.get('/api/v1/revision')).applied.revision !== head) {
    if (Date.now() > deadline) throw new Error(`policy commit ${head} was not applied`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

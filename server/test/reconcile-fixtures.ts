// Shared by the reconcile test files: a local policy repository made with the git CLI from the
// template (or from generated files), and small queries over the applied state.
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type postgres from 'postgres';
import { commitFiles, runGit } from './support/git-http-server.ts';
import { createLogger } from '../src/logger.ts';

export const TEMPLATE_DIR = fileURLToPath(new URL('../../policy-repo-template/', import.meta.url));
export const silentLog = createLogger({ logLevel: 'silent' });

export interface LocalRepo {
  dir: string;
  commit(files: Record<string, string | null>, message: string): Promise<string>;
}

export type Hooks = { after(fn: () => unknown): void };

/** A temp directory removed after the test. */
export async function tempDir(t: Hooks, prefix = 'pswm-reconcile-'): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Polls `probe` until it yields something other than undefined/false. */
export async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 60_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

export async function initialAdminToken(dataDir: string): Promise<string> {
  return (await readFile(path.join(dataDir, 'initial-admin-token'), 'utf8')).trim();
}

/** A temp git repository on branch main whose first commit is the policy template. */
export async function templateRepo(t: Hooks): Promise<LocalRepo> {
  const dir = await tempDir(t, 'pswm-reconcile-repo-');
  await cp(TEMPLATE_DIR, dir, { recursive: true });
  await runGit(['init', '--quiet', '-b', 'main'], dir);
  await commitFiles(dir, {}, 'policy template');
  return { dir, commit: (files, message) => commitFiles(dir, files, message) };
}

export async function objectCounts(sql: postgres.Sql): Promise<Record<string, number>> {
  const rows = await sql<Array<{ kind: string; count: number }>>`select kind, count(*)::int as count from policy_objects group by kind`;
  return Object.fromEntries(rows.map((r) => [r.kind, r.count]));
}

export async function appliedRevision(sql: postgres.Sql): Promise<string | null> {
  const [row] = await sql<Array<{ applied_revision: string | null }>>`select applied_revision from policy_state`;
  return row.applied_revision;
}

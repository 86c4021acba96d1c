// Shared by the reconcile test files: a local policy repository made with the git CLI from the
// template (or from generated files), and small queries over the applied state.
import { cp, mkdtemp, rm } from 'node:fs/promises';
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

/** A temp git repository on branch main whose first commit is the policy template. */
export async function templateRepo(t: { after(fn: () => Promise<void>): void }): Promise<LocalRepo> {
  const dir = await mkdtemp(path.join(tmpdir(), 'pswm-reconcile-repo-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
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

// Shared by the reconcile test files: a local policy repository made with the git CLI from the
// template (or from generated files), and small queries over the applied state.
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type postgres from 'postgres';
import { commitFiles, runGit } from './support/git-http-server.ts';
import { writePolicyRepo } from '../../bench/generate-policy.ts';
import type { RepoFile } from '../../schemas/src/model.ts';
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

/** A temp git repository on branch main whose first commit is `files` (e.g. a generated policy). */
export async function repoOf(t: Hooks, files: RepoFile[]): Promise<LocalRepo> {
  const dir = await tempDir(t, 'pswm-reconcile-repo-');
  await writePolicyRepo(dir, files);
  await runGit(['init', '--quiet', '-b', 'main'], dir);
  await commitFiles(dir, {}, 'generated policy');
  return { dir, commit: (changed, message) => commitFiles(dir, changed, message) };
}

/** Everything a reconcile writes, in a comparable form. Without `revisions`, the columns that say
 * which revision wrote a row are left out, so an incremental history and one full apply of the same
 * head compare equal exactly when they hold the same state. */
export async function appliedState(sql: postgres.Sql, options: { revisions?: boolean } = {}): Promise<unknown> {
  const revisions = options.revisions ?? true;
  const revision = (table: string) => (revisions ? sql`${sql(table)}.revision` : sql`null`);
  return {
    objects: await sql`select kind, id, sha256, ${revision('policy_objects')} as revision, file, line, metadata, spec from policy_objects order by kind, id`,
    scopes: await sql`select scope, organization, location, agent, document_sha256, ${revision('scope_documents')} as revision from scope_documents order by scope`,
    documents: await sql`select sha256, settings_sha256, resources_sha256 from desired_documents order by sha256`,
    parts: await sql`select sha256, kind, md5(body) as body, size from document_parts order by sha256`,
    contents: await sql`select sha256, md5(content) as content from policy_contents order by sha256`,
    revision: revisions ? await appliedRevision(sql) : null,
  };
}

export async function objectCounts(sql: postgres.Sql): Promise<Record<string, number>> {
  const rows = await sql<Array<{ kind: string; count: number }>>`select kind, count(*)::int as count from policy_objects group by kind`;
  return Object.fromEntries(rows.map((r) => [r.kind, r.count]));
}

export async function appliedRevision(sql: postgres.Sql): Promise<string | null> {
  const [row] = await sql<Array<{ applied_revision: string | null }>>`select applied_revision from policy_state`;
  return row.applied_revision;
}

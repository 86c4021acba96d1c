// Reads the policy files of one revision straight from a git object store with isomorphic-git: no
// checkout, so it works on bare repositories and never disturbs a working tree. The CLI uses it for
// `plan`, the server for local repositories; both pass one long-lived cache per repository, without
// which isomorphic-git re-reads and re-hashes packfiles on every call (isomorphic-git #1237).
import fs from 'node:fs';
import path from 'node:path';
import git from 'isomorphic-git';
import type { RepoFile } from '../model.ts';

export interface PolicyRevision {
  /** The full commit id. */
  revision: string;
  files: RepoFile[];
  commit: { author: string; email: string; message: string; time: string };
}

const SYMLINK_MODE = 0o120000;

/**
 * `ref` is a branch, tag, remote branch, `HEAD`, a full or abbreviated commit id, optionally
 * followed by `~N` / `^` steps to first parents (`HEAD~1`, `main^^`).
 * Throws when the repository or the revision cannot be found.
 */
export async function readPolicyRevision(repoDir: string, ref: string, cache: object = {}): Promise<PolicyRevision> {
  const gitdir = await findGitdir(repoDir);
  const oid = await resolveRevision(gitdir, ref, cache);
  const { commit } = await git.readCommit({ fs, gitdir, oid, cache });
  const files = await readTreeFiles(gitdir, oid, cache);
  return {
    revision: oid,
    files,
    commit: {
      author: commit.author.name,
      email: commit.author.email,
      message: commit.message,
      time: new Date(commit.author.timestamp * 1000).toISOString(),
    },
  };
}

/** A working tree's `.git` directory (or the `gitdir:` a `.git` file points to), else a bare repository. */
async function findGitdir(repoDir: string): Promise<string> {
  const dotGit = path.join(repoDir, '.git');
  const stat = await fs.promises.stat(dotGit).catch(() => null);
  if (stat?.isDirectory()) return dotGit;
  if (stat?.isFile()) {
    const pointer = /^gitdir:\s*(.+)$/m.exec(await fs.promises.readFile(dotGit, 'utf8'));
    if (pointer) return path.resolve(repoDir, pointer[1].trim());
  }
  const bare = await fs.promises.stat(path.join(repoDir, 'HEAD')).catch(() => null);
  if (bare?.isFile()) return repoDir;
  throw new Error(`${repoDir} is not a git repository (no .git and no bare repository layout)`);
}

async function resolveRevision(gitdir: string, ref: string, cache: object): Promise<string> {
  const match = /^(.*?)((?:~\d*|\^)*)$/.exec(ref)!;
  const [, name, steps] = match;
  // readCommit peels annotated tags to the commit they point at.
  let oid = (await git.readCommit({ fs, gitdir, oid: await resolveName(gitdir, name, ref, cache), cache })).oid;
  for (const step of steps.match(/~\d*|\^/g) ?? []) {
    const count = step === '^' || step === '~' ? 1 : Number(step.slice(1));
    for (let i = 0; i < count; i += 1) {
      const { commit } = await git.readCommit({ fs, gitdir, oid, cache });
      if (!commit.parent.length) throw new Error(`revision "${ref}" not found: ${oid} has no parent`);
      oid = commit.parent[0];
    }
  }
  return oid;
}

async function resolveName(gitdir: string, name: string, ref: string, cache: object): Promise<string> {
  try {
    return await git.resolveRef({ fs, gitdir, ref: name });
  } catch (refError) {
    if (!/^[0-9a-f]{4,39}$/i.test(name)) throw new Error(`revision "${ref}" not found in ${gitdir}`, { cause: refError });
    try {
      return await git.expandOid({ fs, gitdir, oid: name.toLowerCase(), cache });
    } catch (oidError) {
      throw new Error(`revision "${ref}" not found in ${gitdir} (no ref and no unique object with that prefix)`, { cause: oidError });
    }
  }
}

/** Every file of the commit's tree in one walk (a readBlob per file is far slower, isomorphic-git #1841). */
async function readTreeFiles(gitdir: string, oid: string, cache: object): Promise<RepoFile[]> {
  const files: RepoFile[] = [];
  await git.walk({
    fs,
    gitdir,
    cache,
    trees: [git.TREE({ ref: oid })],
    map: async (filepath, [entry]) => {
      if (!entry || filepath === '.') return true;
      const type = await entry.type();
      if (type === 'tree') return true;
      if (type !== 'blob') return undefined; // submodules: not part of this repository's policy
      const content = (await entry.content())!;
      const bytes = Buffer.from(content.buffer, content.byteOffset, content.byteLength);
      if ((await entry.mode()) === SYMLINK_MODE) files.push({ path: filepath, symlinkTarget: bytes.toString('utf8'), size: bytes.byteLength });
      else files.push({ path: filepath, text: bytes.toString('utf8'), size: bytes.byteLength });
      return undefined;
    },
    reduce: async () => undefined,
  });
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

// Reads the policy files of one revision straight from a git object store with isomorphic-git: no
// checkout, so it works on bare repositories and never disturbs a working tree. The CLI uses it for
// `plan`, the server for local repositories; both pass one long-lived cache per repository, without
// which isomorphic-git re-reads and re-hashes packfiles on every call (isomorphic-git #1237).
import fs from 'node:fs';
import path from 'node:path';
import git from 'isomorphic-git';
import type { WalkerEntry } from 'isomorphic-git';
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
 * `blobTexts` (blob id → text), kept by the caller between reads of one repository, spares
 * reading and decoding blobs an earlier revision already had; it is updated to hold the blobs of
 * this revision only.
 * Throws when the repository or the revision cannot be found.
 */
export async function readPolicyRevision(repoDir: string, ref: string, cache: object = {}, blobTexts?: Map<string, string>): Promise<PolicyRevision> {
  const gitdir = await findGitdir(repoDir);
  const oid = await resolveRevision(gitdir, ref, cache);
  const { commit } = await git.readCommit({ fs, gitdir, oid, cache });
  const files = await readTreeFiles(gitdir, oid, cache, blobTexts);
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
async function readTreeFiles(gitdir: string, oid: string, cache: object, blobTexts = new Map<string, string>()): Promise<RepoFile[]> {
  const files: RepoFile[] = [];
  const seen = new Set<string>();
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
      const blobOid = await entry.oid();
      seen.add(blobOid);
      const { text, size } = await blobText(entry, blobOid, blobTexts);
      if ((await entry.mode()) === SYMLINK_MODE) files.push({ path: filepath, symlinkTarget: text, size, oid: blobOid });
      else files.push({ path: filepath, text, size, oid: blobOid });
      return undefined;
    },
    reduce: async () => undefined,
  });
  for (const known of blobTexts.keys()) if (!seen.has(known)) blobTexts.delete(known);
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

async function blobText(entry: WalkerEntry, oid: string, blobTexts: Map<string, string>): Promise<{ text: string; size: number }> {
  const known = blobTexts.get(oid);
  if (known !== undefined) return { text: known, size: Buffer.byteLength(known, 'utf8') };
  const content = (await entry.content())!;
  const bytes = Buffer.from(content.buffer, content.byteOffset, content.byteLength);
  const text = bytes.toString('utf8');
  // Only a lossless decoding gives back the blob's byte size from the text; blobs that are not
  // UTF-8 (decoded with U+FFFD) are simply read again next time.
  if (!text.includes('\uFFFD')) blobTexts.set(oid, text);
  return { text, size: bytes.byteLength };
}

// Reads the policy files of one revision straight from a git object store with isomorphic-git: no
// checkout, so it works on bare repositories and never disturbs a working tree. The CLI uses it for
// `plan`, the server for local repositories; both pass one long-lived cache per repository, without
// which isomorphic-git re-reads and re-hashes packfiles on every call (isomorphic-git #1237).
import fs from 'node:fs';
import path from 'node:path';
import git from 'isomorphic-git';
import type { RepoFile } from '../model.ts';
import { openBlobReader } from './git-objects.ts';
import type { BlobReader } from './git-objects.ts';

export interface PolicyRevision {
  /** The full commit id. */
  revision: string;
  files: RepoFile[];
  commit: { author: string; email: string; message: string; time: string };
}

const SYMLINK_MODE = '120000';
const BLOB_READS_AT_ONCE = 64;

/**
 * `ref` is a branch, tag, remote branch, `HEAD`, a full or abbreviated commit id, optionally
 * followed by `~N` / `^` steps to first parents (`HEAD~1`, `main^^`).
 * `blobTexts` (blob id → text), kept by the caller between reads of one repository, spares
 * reading and decoding blobs an earlier revision already had, and (remembered with it) reading
 * trees whose id did not change; it is updated to hold the blobs of this revision only.
 * Throws when the repository or the revision cannot be found.
 */
export async function readPolicyRevision(repoDir: string, ref: string, cache: object = {}, blobTexts?: Map<string, string>): Promise<PolicyRevision> {
  const gitdir = await findGitdir(repoDir);
  if (!gitdir) throw new Error(`${repoDir} is not a git repository (no .git and no bare repository layout)`);
  const oid = await resolveRevision(gitdir, ref, cache);
  const { commit } = await git.readCommit({ fs, gitdir, oid, cache });
  const files = await readTreeFiles(gitdir, commit.tree, cache, blobTexts);
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

/** A working tree's `.git` directory (or the `gitdir:` a `.git` file points to, as in linked worktrees
 * and submodules), else the repository itself when it is bare; undefined when it is neither. */
export async function findGitdir(repoDir: string): Promise<string | undefined> {
  const dotGit = path.join(repoDir, '.git');
  const stat = await fs.promises.stat(dotGit).catch(() => null);
  if (stat?.isDirectory()) return dotGit;
  if (stat?.isFile()) {
    const pointer = /^gitdir:\s*(.+)$/m.exec(await fs.promises.readFile(dotGit, 'utf8'));
    if (pointer) return path.resolve(repoDir, pointer[1].trim());
  }
  const [head, objects] = await Promise.all([
    fs.promises.stat(path.join(repoDir, 'HEAD')).catch(() => null),
    fs.promises.stat(path.join(repoDir, 'objects')).catch(() => null),
  ]);
  return head?.isFile() && objects?.isDirectory() ? repoDir : undefined;
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

/** Files under one tree as last read, and the subtrees read with it (carried over with it). */
interface TreeFiles {
  files: RepoFile[];
  subtrees: string[];
}

/** Per blob text map (the one thing a caller keeps across fetches; isomorphic-git caches are
 * replaced after each): the trees of the revision read last, by `${path prefix}:${tree id}`. A
 * tree id names its whole content, so a subtree whose id did not change since the last read is
 * not read again: after a one-file commit only the trees on the path to that file are. */
const lastTrees = new WeakMap<Map<string, string>, Map<string, TreeFiles>>();

interface TreeRead {
  gitdir: string;
  cache: object;
  blobTexts: Map<string, string>;
  /** Opened on the first blob not in blobTexts. */
  blobReader?: Promise<BlobReader>;
  previous: Map<string, TreeFiles>;
  current: Map<string, TreeFiles>;
}

async function readTreeFiles(gitdir: string, treeOid: string, cache: object, blobTexts = new Map<string, string>()): Promise<RepoFile[]> {
  const read: TreeRead = { gitdir, cache, blobTexts, previous: lastTrees.get(blobTexts) ?? new Map(), current: new Map() };
  // Copies: the memo's file objects must not change if a caller edits what it was given.
  const files = (await readTree(read, treeOid, '')).map((file) => ({ ...file }));
  lastTrees.set(blobTexts, read.current);
  const inTree = new Set(files.map((file) => file.oid));
  for (const known of blobTexts.keys()) if (!inTree.has(known)) blobTexts.delete(known);
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

async function readTree(read: TreeRead, oid: string, prefix: string): Promise<RepoFile[]> {
  const key = `${prefix}:${oid}`;
  const known = read.previous.get(key);
  if (known) {
    carryOver(read, key);
    return known.files;
  }
  const { tree } = await git.readTree({ fs, gitdir: read.gitdir, oid, cache: read.cache });
  const result: TreeFiles = { files: [], subtrees: [] };
  // Blobs are read a batch at a time: isomorphic-git looks for a loose object file before the
  // packs, and those lookups only overlap when reads run concurrently; unbounded, thousands of
  // open files would hit EMFILE.
  for (let start = 0; start < tree.length; start += BLOB_READS_AT_ONCE) {
    const batch = tree.slice(start, start + BLOB_READS_AT_ONCE);
    const texts = await Promise.all(batch.map((entry) => (entry.type === 'blob' ? blobText(read, entry.oid) : undefined)));
    for (const [i, entry] of batch.entries()) {
      const path = prefix + entry.path;
      const blob = texts[i];
      if (entry.type === 'tree') {
        result.subtrees.push(`${path}/:${entry.oid}`);
        result.files.push(...(await readTree(read, entry.oid, `${path}/`)));
      } else if (blob) {
        result.files.push(entry.mode === SYMLINK_MODE ? { path, symlinkTarget: blob.text, size: blob.size, oid: entry.oid } : { path, text: blob.text, size: blob.size, oid: entry.oid });
      } // 'commit': a submodule, not part of this repository's policy
    }
  }
  read.current.set(key, result);
  return result.files;
}

function carryOver(read: TreeRead, key: string): void {
  const known = read.previous.get(key)!;
  read.current.set(key, known);
  for (const subtree of known.subtrees) carryOver(read, subtree);
}

async function blobText(read: TreeRead, oid: string): Promise<{ text: string; size: number }> {
  const known = read.blobTexts.get(oid);
  if (known !== undefined) return { text: known, size: Buffer.byteLength(known, 'utf8') };
  read.blobReader ??= openBlobReader(read.gitdir);
  const bytes = (await (await read.blobReader).readBlob(oid)) ?? (await readBlobWithIsomorphicGit(read, oid));
  const text = bytes.toString('utf8');
  // Only a lossless decoding gives back the blob's byte size from the text; blobs that are not
  // UTF-8 (decoded with U+FFFD) are simply read again next time.
  if (!text.includes('\uFFFD')) read.blobTexts.set(oid, text);
  return { text, size: bytes.byteLength };
}

async function readBlobWithIsomorphicGit(read: TreeRead, oid: string): Promise<Buffer> {
  const { blob } = await git.readBlob({ fs, gitdir: read.gitdir, oid, cache: read.cache });
  return Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
}

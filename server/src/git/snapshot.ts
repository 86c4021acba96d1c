// Reading one revision of the policy repository. The tree reader itself is shared with the CLI
// (schemas/src/source/git.ts); this module owns the server's side of it: the one long-lived
// isomorphic-git cache per repository, replaced when the branch head moves, and the texts of the
// blobs of the last revision read, so a commit that changes one file inflates one blob.
import { readPolicyRevision } from '@pswm/schemas';
import type { PolicyRevision } from '@pswm/schemas';

export type PolicySnapshot = PolicyRevision;

export interface RevisionReader {
  /** Records the branch head that sync() found. A new head means new packfiles (fetch) or maybe
   * repacked ones (local gc), so the cached pack indexes are dropped then and only then. */
  noteHead(revision: string): void;
  read(revision: string): Promise<PolicySnapshot>;
}

export function createRevisionReader(repoDir: string): RevisionReader {
  let cache: object = {};
  let head: string | undefined;
  // Blob id → text; readPolicyRevision keeps only the blobs of the revision it read last. Unlike
  // the pack cache it survives a new head: a blob id names its content in any pack.
  const blobTexts = new Map<string, string>();
  return {
    noteHead(revision) {
      if (revision === head) return;
      head = revision;
      cache = {};
    },
    async read(revision) {
      try {
        return await readPolicyRevision(repoDir, revision, cache, blobTexts);
      } catch (error) {
        // A pack deleted under us (gc) would fail every later read through a stale cache.
        cache = {};
        throw error;
      }
    },
  };
}

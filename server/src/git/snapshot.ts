// Reading one revision of the policy repository. The tree reader itself is shared with the CLI
// (schemas/src/source/git.ts); this module owns the server's side of it: the one long-lived
// isomorphic-git cache per repository, replaced when the branch head moves.
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
  return {
    noteHead(revision) {
      if (revision === head) return;
      head = revision;
      cache = {};
    },
    async read(revision) {
      try {
        return await readPolicyRevision(repoDir, revision, cache);
      } catch (error) {
        // A pack deleted under us (gc) would fail every later read through a stale cache.
        cache = {};
        throw error;
      }
    },
  };
}

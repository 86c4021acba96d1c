// Resolves a `file` reference to a repository path the way a checkout would: relative to the YAML
// file's folder, through symbolic links that stay inside the repository, never outside it.
import type { RepoFile } from '../model.ts';

export type PathResolution =
  | { ok: true; path: string; file: RepoFile }
  | { ok: false; reason: 'absolute' | 'outside' | 'symlink-outside' | 'symlink-cycle' | 'not-found'; path: string; link?: string };

/** Linux's limit on links followed in one lookup (ELOOP). */
const MAX_LINK_HOPS = 40;

export function resolveRepoPath(reference: string, fromFile: string, files: Map<string, RepoFile>): PathResolution {
  const written = reference.replace(/\\/g, '/');
  if (written.startsWith('/') || /^[A-Za-z]:/.test(written)) return { ok: false, reason: 'absolute', path: written };
  const start = normalize([...folderOf(fromFile), ...written.split('/')]);
  if (!start) return { ok: false, reason: 'outside', path: written };
  let segments = start;
  let hops = 0;
  // Replace the first symlinked prefix by its target until no prefix is a link.
  for (let i = 1; i <= segments.length; i++) {
    const prefix = segments.slice(0, i).join('/');
    const link = files.get(prefix);
    if (link?.symlinkTarget === undefined) continue;
    if (++hops > MAX_LINK_HOPS) return { ok: false, reason: 'symlink-cycle', path: segments.join('/'), link: prefix };
    const target = link.symlinkTarget.replace(/\\/g, '/');
    const resolved = target.startsWith('/') || /^[A-Za-z]:/.test(target) ? undefined : normalize([...folderOf(prefix), ...target.split('/')]);
    if (!resolved) return { ok: false, reason: 'symlink-outside', path: segments.join('/'), link: prefix };
    segments = [...resolved, ...segments.slice(i)];
    i = 0;
  }
  const path = segments.join('/');
  const file = files.get(path);
  return file ? { ok: true, path, file } : { ok: false, reason: 'not-found', path };
}

function folderOf(path: string): string[] {
  return path.split('/').slice(0, -1);
}

/** Applies `.` and `..`; undefined when `..` climbs above the repository root. */
function normalize(segments: string[]): string[] | undefined {
  const result: string[] = [];
  for (const segment of segments) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (result.length === 0) return undefined;
      result.pop();
    } else {
      result.push(segment);
    }
  }
  return result;
}

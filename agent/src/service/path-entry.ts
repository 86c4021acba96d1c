import type { Platform } from '@pswm/schemas';

// Windows compares PATH entries case-insensitively and `C:\x\` equals `C:\x`; POSIX is exact
// apart from a trailing slash.
function normalizeEntry(entry: string, platform: Platform): string {
  const trimmed = entry.trim().replace(platform === 'windows' ? /[\\/]+$/ : /\/+$/, '');
  return platform === 'windows' ? trimmed.toLowerCase() : trimmed;
}

const separator = (platform: Platform) => (platform === 'windows' ? ';' : ':');

export function pathHasEntry(pathValue: string, dir: string, platform: Platform): boolean {
  const wanted = normalizeEntry(dir, platform);
  return pathValue.split(separator(platform)).some((entry) => normalizeEntry(entry, platform) === wanted);
}

/** `pathValue` with `dir` appended, or unchanged when it is already there. */
export function addPathEntry(pathValue: string, dir: string, platform: Platform): string {
  if (pathHasEntry(pathValue, dir, platform)) return pathValue;
  const sep = separator(platform);
  const base = pathValue.endsWith(sep) ? pathValue.slice(0, -1) : pathValue;
  return base ? `${base}${sep}${dir}` : dir;
}

/** `pathValue` without any entry equal to `dir`; every other entry kept as written. */
export function removePathEntry(pathValue: string, dir: string, platform: Platform): string {
  const wanted = normalizeEntry(dir, platform);
  return pathValue
    .split(separator(platform))
    .filter((entry) => normalizeEntry(entry, platform) !== wanted)
    .join(separator(platform));
}

// Parsers for choco v2's `-r` (limit output) format. choco can mix stray lines into it (a
// `[NuGet] ...` notice, a warning), so every parser keeps only lines of the exact shape it expects.

export interface InstalledPackage {
  name: string;
  version: string;
}

export interface OutdatedPackage {
  name: string;
  current: string;
  available: string;
  pinned: boolean;
}

function fields(text: string, count: number): string[][] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim().split('|'))
    .filter((parts) => parts.length === count && parts.every((part) => part !== '' && !/\s/.test(part)));
}

/** `choco list -r`: `id|version` per installed package. */
export function parseChocoList(text: string): InstalledPackage[] {
  return fields(text, 2).map(([name, version]) => ({ name, version }));
}

/** `choco pin list -r`: `id|version` per pin. */
export const parseChocoPinList = parseChocoList;

/** `choco outdated -r`: `name|current|available|pinned`. */
export function parseChocoOutdated(text: string): OutdatedPackage[] {
  return fields(text, 4)
    .filter(([, , , pinned]) => pinned === 'true' || pinned === 'false')
    .map(([name, current, available, pinned]) => ({ name, current, available, pinned: pinned === 'true' }));
}

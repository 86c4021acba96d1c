// The compiled copy of the agent (agent/dist/, built by agent/scripts/build-dist.ts): the same
// sources emitted as JavaScript, so the installed service runs without Node's TypeScript stripper
// (~30 MB of resident WebAssembly memory in a running agent, docs/BENCHMARKS.md "Agent").
// build-info.json records the digest of every source it was built from: a copy older than the
// sources is never used.
import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sha256Hex } from '@pswm/schemas/canonical-json';

export const BUILD_INFO_FILE = 'build-info.json';
/** Where main.js sits inside a compiled copy (tsc keeps the repository layout under rootDir ".."). */
export const COMPILED_MAIN = path.join('agent', 'src', 'cli', 'main.js');

export interface BuildInfo {
  built_at: string;
  /** Repository-relative source path → sha256 of its content. */
  sources: Record<string, string>;
}

/** The root this module runs from: the repository (sources) or a compiled copy's directory — both
 * hold agent/src/service/ three levels down. */
export const SOURCE_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const DEFAULT_COMPILED_DIR = path.join(SOURCE_ROOT, 'agent', 'dist');

export async function sourceDigests(root: string, files: readonly string[]): Promise<Record<string, string>> {
  const entries = await Promise.all(files.map(async (file) => [file, sha256Hex(await readFile(path.join(root, file), 'utf8'))] as const));
  return Object.fromEntries(entries.sort(([a], [b]) => a.localeCompare(b)));
}

/** This module runs from a compiled copy (its root holds build-info.json), not from the sources. */
export async function isCompiledCopy(): Promise<boolean> {
  return access(path.join(SOURCE_ROOT, BUILD_INFO_FILE)).then(() => true, () => false);
}

export function runningCopyMain(): string {
  return path.join(SOURCE_ROOT, COMPILED_MAIN);
}

export type CompiledCopy = { usable: true; main: string } | { usable: false; reason: string };

/** The compiled copy in `dir`, if it was built from the sources under `root` as they are now. */
export async function findCompiledCopy(dir: string = DEFAULT_COMPILED_DIR, root: string = SOURCE_ROOT): Promise<CompiledCopy> {
  let info: BuildInfo;
  try {
    info = JSON.parse(await readFile(path.join(dir, BUILD_INFO_FILE), 'utf8'));
  } catch {
    return { usable: false, reason: `no compiled copy in ${dir} (npm run build -w agent)` };
  }
  const files = Object.keys(info.sources ?? {});
  if (files.length === 0) return { usable: false, reason: `${path.join(dir, BUILD_INFO_FILE)} lists no sources` };
  const now = await sourceDigests(root, files).catch(() => undefined);
  const changed = files.find((file) => now?.[file] !== info.sources[file]);
  if (changed) return { usable: false, reason: `the compiled copy in ${dir} is older than ${changed} (npm run build -w agent)` };
  return { usable: true, main: path.join(dir, COMPILED_MAIN) };
}

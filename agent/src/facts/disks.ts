import { readFile, statfs } from 'node:fs/promises';
import { runProcess } from '../platform/run-process.ts';

export interface DiskUsage {
  mount: string;
  fs?: string;
  total_bytes: number;
  /** Space an unprivileged user can still write (df's "Available"). */
  free_bytes: number;
  /** Space in use (df's "Used"); total − free is larger by the root-reserved blocks. */
  used_bytes: number;
}

export interface Mount {
  mount: string;
  fs: string;
}

// Pseudo and in-memory file systems: no disk behind them, and a container shows dozens.
const VIRTUAL_FS = new Set([
  'proc', 'sysfs', 'devtmpfs', 'devpts', 'tmpfs', 'cgroup', 'cgroup2', 'securityfs', 'pstore', 'debugfs', 'tracefs',
  'configfs', 'fusectl', 'mqueue', 'hugetlbfs', 'bpf', 'autofs', 'binfmt_misc', 'rpc_pipefs', 'nsfs', 'squashfs',
  'efivarfs', 'ramfs', 'selinuxfs', 'fuse.lxcfs', 'fuse.portal', 'fuse.gvfsd-fuse', 'nfsd', 'overlay',
]);

/** Real file systems from /proc/self/mounts: block devices and network shares, each device once
 * (bind mounts repeat it). The root is always kept, even when it is an overlay (containers). */
export function selectDiskMounts(procMounts: string): Mount[] {
  const seenDevices = new Set<string>();
  const mounts: Mount[] = [];
  for (const line of procMounts.split('\n')) {
    const [device, rawMount, fs] = line.split(' ');
    if (!device || !rawMount || !fs) continue;
    const mount = unescapeMountPath(rawMount);
    if (mount !== '/' && VIRTUAL_FS.has(fs)) continue;
    if (seenDevices.has(device) && mount !== '/') continue;
    seenDevices.add(device);
    mounts.push({ mount, fs });
  }
  return mounts;
}

/** The kernel writes space, tab, newline and backslash in mount paths as octal escapes. */
function unescapeMountPath(raw: string): string {
  return raw.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/** Parses `df -P -k` (POSIX format: 1024-byte blocks, one line per file system, mount point last
 * and possibly containing spaces). */
export function parseDfOutput(output: string): DiskUsage[] {
  const disks: DiskUsage[] = [];
  for (const line of output.split(/\r?\n/).slice(1)) {
    const match = /^(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+\d+%\s+(.+)$/.exec(line.trim());
    if (!match) continue;
    const [, , total, used, available, mount] = match;
    disks.push({ mount, total_bytes: Number(total) * 1024, used_bytes: Number(used) * 1024, free_bytes: Number(available) * 1024 });
  }
  return disks;
}

/** Mounted volumes and their sizes: statfs on Linux (/proc mounts) and on Windows (drive letters),
 * `df -P -k` elsewhere. A volume that cannot be read (a hung network share) is left out. */
export async function listDisks(platform: NodeJS.Platform = process.platform): Promise<DiskUsage[]> {
  if (platform === 'linux') {
    const mounts = selectDiskMounts(await readFile('/proc/self/mounts', 'utf8'));
    return statMounts(mounts);
  }
  if (platform === 'win32') {
    const letters = [...'CDEFGHIJKLMNOPQRSTUVWXYZ'].map((letter) => ({ mount: `${letter}:` }));
    return statMounts(letters, '\\');
  }
  const result = await runProcess({ command: 'df', args: ['-P', '-k'], cwd: '/', timeoutSeconds: 10, maxOutputBytes: 256 * 1024 });
  return result.exitCode === 0 ? parseDfOutput(result.stdout) : [];
}

async function statMounts(mounts: Array<{ mount: string; fs?: string }>, suffix = ''): Promise<DiskUsage[]> {
  const disks = await Promise.all(
    mounts.map(async ({ mount, fs }): Promise<DiskUsage | undefined> => {
      try {
        const s = await statfs(mount + suffix);
        if (s.blocks === 0) return undefined; // nothing behind it (an empty card reader, autofs)
        return { mount, ...(fs ? { fs } : {}), total_bytes: s.blocks * s.bsize, free_bytes: s.bavail * s.bsize, used_bytes: (s.blocks - s.bfree) * s.bsize };
      } catch {
        return undefined;
      }
    }),
  );
  return disks.filter((disk) => disk !== undefined);
}

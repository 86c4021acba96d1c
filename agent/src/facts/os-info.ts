import { readFile } from 'node:fs/promises';
import os from 'node:os';
import type { Platform } from '@pswm/schemas';

export interface OsFacts {
  family: Platform;
  name: string;
  version: string;
  kernel: string;
  arch: string;
}

/** NAME and VERSION_ID from /etc/os-release (shell-style KEY=value, values optionally quoted). */
export function parseOsRelease(text: string): { name?: string; version?: string } {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (match) values.set(match[1], match[2].replace(/^(["'])(.*)\1$/, '$2'));
  }
  return { name: values.get('NAME'), version: values.get('VERSION_ID') };
}

export async function osFacts(family: Platform): Promise<OsFacts> {
  const kernel = os.release();
  const arch = os.arch();
  if (family === 'linux') {
    const release = await readFile('/etc/os-release', 'utf8').catch(() => '');
    const { name, version } = parseOsRelease(release);
    return { family, name: name ?? 'Linux', version: version ?? kernel, kernel, arch };
  }
  // os.version() is "Windows 10 Pro" on Windows; os.release() there is the build ("10.0.19045")
  if (family === 'windows') return { family, name: os.version(), version: kernel, kernel, arch };
  return { family, name: family === 'darwin' ? 'macOS' : os.type(), version: kernel, kernel: os.version(), arch };
}

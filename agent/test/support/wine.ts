// The Windows agent run as a Windows program under Wine (Debian's wine64): a Node 22 single
// executable built from the same bundle as pswm.exe (Node 24's node.exe aborts under wine64 8.0 on
// V8's sandbox reservation), one Wine prefix per test run, and `pswm.exe` processes whose output
// goes to files (Node under Wine cannot open a Linux pipe as its stdout: EBADF).
import { execFile, spawn, spawnSync } from 'node:child_process';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { buildSingle } from '../../scripts/build-single.ts';
import { bundleAgent } from '../../scripts/bundle.ts';
import { buildNativeHelper } from '../../scripts/native-helper.ts';
import { CACHE_DIR, NODE_VERSIONS } from '../../scripts/npm-binaries.ts';

const run = promisify(execFile);

export function wineAvailable(): boolean {
  return spawnSync('wine', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** A Linux path as Wine's Windows programs see it (drive Z: is the Linux root). */
export function winePath(linuxPath: string): string {
  return `Z:${linuxPath.replaceAll('/', '\\')}`;
}

/** The Node 22 pswm.exe for the current sources, built once per sources digest (kept in agent/.cache). */
export async function wineBuild(): Promise<{ executable: string; digest: string }> {
  const out = path.join(CACHE_DIR, 'wine-build');
  const { identity } = await bundleAgent({ platform: 'windows', nodeVersion: NODE_VERSIONS.wine });
  const cached = await readFile(path.join(out, 'build-info.json'), 'utf8').then((text) => JSON.parse(text) as { digest: string }, () => undefined);
  if (cached?.digest === identity.digest) {
    // the helper is not part of the bundle's digest: rebuilt from its source every time (< 1 s)
    await buildNativeHelper(out);
    return { executable: path.join(out, 'pswm.exe'), digest: identity.digest };
  }
  const built = await buildSingle({ platform: 'windows', out, nodeVersion: NODE_VERSIONS.wine });
  return { executable: built.executable, digest: built.digest };
}

export interface WineResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface Wine {
  prefix: string;
  env: Record<string, string>;
  /** Runs a Windows program (a path or a name on the Windows PATH) to completion. */
  run(program: string, args: string[], opts?: { env?: Record<string, string>; timeoutMs?: number }): Promise<WineResult>;
  close(): Promise<void>;
}

/** A new Wine prefix set to Windows 10, its wineserver kept running until close() (each program
 * start then costs about a second instead of a server start). */
export async function startWine(): Promise<Wine> {
  const prefix = await mkdtemp(path.join(tmpdir(), 'pswm-wine-'));
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    WINEPREFIX: prefix,
    WINEDEBUG: '-all',
    // no Mono/Gecko install dialogs: nothing here needs .NET or a browser engine
    WINEDLLOVERRIDES: 'mscoree,mshtml=',
    NODE_SKIP_PLATFORM_CHECK: '1',
  };
  const outputs = await mkdtemp(path.join(tmpdir(), 'pswm-wine-out-'));
  let serial = 0;
  const wine: Wine = {
    prefix,
    env,
    async run(program, args, opts = {}) {
      const started = Date.now();
      const base = path.join(outputs, String(serial++));
      const [stdout, stderr] = await Promise.all([open(`${base}.out`, 'w'), open(`${base}.err`, 'w')]);
      const child = spawn('wine', [program, ...args], { env: { ...env, ...opts.env }, stdio: ['ignore', stdout.fd, stderr.fd] });
      const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
      const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
      clearTimeout(timer);
      await Promise.all([stdout.close(), stderr.close()]);
      return { code, stdout: await readFile(`${base}.out`, 'utf8'), stderr: await readFile(`${base}.err`, 'utf8'), ms: Date.now() - started };
    },
    async close() {
      await run('wineserver', ['-k'], { env }).catch(() => undefined);
      await rm(prefix, { recursive: true, force: true });
      await rm(outputs, { recursive: true, force: true });
    },
  };
  try {
    // wineserver -p forks a server that keeps any pipe it inherits open: no pipes, no waiting
    await new Promise<void>((resolve, reject) => spawn('wineserver', ['-p'], { env, stdio: 'ignore' }).once('exit', () => resolve()).once('error', reject));
    const version = await wine.run('reg.exe', ['add', 'HKCU\\Software\\Wine', '/v', 'Version', '/d', 'win10', '/f'], { timeoutMs: 180_000 });
    if (version.code !== 0) throw new Error(`wine reg add failed: ${version.stderr}`);
    // Wine ships a powershell.exe stub that does nothing and exits 0: without it, the machine is
    // one without PowerShell, and the agent must say so rather than report a success
    for (const dir of ['system32', 'syswow64']) await rm(path.join(prefix, 'drive_c', 'windows', dir, 'WindowsPowerShell'), { recursive: true, force: true });
  } catch (error) {
    await wine.close();
    throw error;
  }
  return wine;
}

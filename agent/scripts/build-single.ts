// npm run build:windows / build:linux (node agent/scripts/build-single.ts --platform P [--out DIR]
// [--node VERSION] [--version V]): the agent as one executable, a Node single executable application.
//   1. bundle the agent into one CommonJS file (agent/scripts/bundle.ts, esbuild);
//   2. make the preparation blob with `node --experimental-sea-config` — run by the Linux Node of the
//      same version as the target's, since the blob must come from the Node it is injected into (no
//      code cache or snapshot, so the blob is the same for every platform);
//   3. copy the target's Node binary and inject the blob (postject, the SEA sentinel fuse);
//   4. node-pty beside it (DIR/node_modules/node-pty: native, so not in the executable; the console
//      loads it on its first session);
//   5. Windows: put the service wrapper beside it (pswm-service.exe = WinSW, see docs/architecture.md)
//      and pswm-native.exe, compiled here with mingw-w64 (agent/scripts/native-helper.ts).
// Output: DIR/pswm or DIR/pswm.exe, DIR/build-info.json (version, sources digest, sha256 of the exe).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import postject from 'postject';
import { bundleAgent, REPO_ROOT } from './bundle.ts';
import { buildNativeHelper } from './native-helper.ts';
import { copyNodePty } from './node-pty-files.ts';
import { oneAtATime } from './folder-lock.ts';
import { SERVICE_NODE_FLAGS } from '../src/service/unit-files.ts';
import { CACHE_DIR, moveIntoPlace, nodeBinary, NODE_VERSIONS, winswFiles } from './npm-binaries.ts';

const run = promisify(execFile);
// The fuse string Node looks for to know a blob was injected (node/src/node_sea.cc).
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
export const WRAPPER_EXE = 'pswm-service.exe';

export interface SingleBuild {
  executable: string;
  version: string;
  digest: string;
  sha256: string;
}

export async function buildSingle(opts: { platform: 'linux' | 'windows'; out: string; nodeVersion?: string; version?: string }): Promise<SingleBuild> {
  const nodeVersion = opts.nodeVersion ?? NODE_VERSIONS.shipped;
  // first: a machine without the cross-compiler learns it before minutes of bundling
  if (opts.platform === 'windows') {
    await mkdir(opts.out, { recursive: true });
    await buildNativeHelper(opts.out);
  }
  const [bundle, hostNode, targetNode] = await Promise.all([
    bundleAgent({ platform: opts.platform, nodeVersion, version: opts.version }),
    nodeBinary('linux', nodeVersion),
    nodeBinary(opts.platform, nodeVersion),
  ]);
  await mkdir(CACHE_DIR, { recursive: true });
  const work = await mkdtemp(path.join(CACHE_DIR, 'sea-'));
  try {
    const main = path.join(work, 'pswm.cjs');
    const blob = path.join(work, 'pswm.blob');
    await writeFile(main, bundle.code);
    // the executable starts with the service's V8 flags (the Node-run service passes them on its
    // command line): an agent idles on timers and one socket, the optimizing compilers only cost memory
    await writeFile(path.join(work, 'sea-config.json'), JSON.stringify({ main, output: blob, disableExperimentalSEAWarning: true, useSnapshot: false, useCodeCache: false, execArgv: [...SERVICE_NODE_FLAGS] }));
    await run(hostNode, ['--experimental-sea-config', 'sea-config.json'], { cwd: work });
    await mkdir(opts.out, { recursive: true });
    const executable = path.join(opts.out, opts.platform === 'windows' ? 'pswm.exe' : 'pswm');
    const staged = `${executable}.tmp`;
    await copyFile(targetNode, staged);
    await chmod(staged, 0o755);
    await postject.inject(staged, 'NODE_SEA_BLOB', await readFile(blob), { sentinelFuse: SEA_FUSE });
    await rm(executable, { force: true });
    await copyFile(staged, executable);
    await rm(staged);
    await chmod(executable, 0o755);
    // the console's PTY: a native addon cannot be inside the executable, so it goes beside it
    await copyNodePty(path.join(REPO_ROOT, 'agent'), path.join(opts.out, 'node_modules'), { platform: opts.platform === 'windows' ? 'win32' : 'linux', arch: 'x64' });
    if (opts.platform === 'windows') {
      const winsw = await winswFiles();
      await copyFile(winsw.exe, path.join(opts.out, WRAPPER_EXE));
      await copyFile(winsw.config, path.join(opts.out, `${WRAPPER_EXE}.config`));
    }
    const sha256 = createHash('sha256').update(await readFile(executable)).digest('hex');
    const info = { ...bundle.identity, executable: path.basename(executable), sha256 };
    await writeFile(path.join(opts.out, 'build-info.json'), JSON.stringify(info, null, 2) + '\n');
    return { executable, version: bundle.identity.version, digest: bundle.identity.digest, sha256 };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** A Linux build of this version for tests and benchmarks, kept in agent/.cache/update-builds/<version>
 * and built again only when the agent's sources changed. Test files running at once may ask for the
 * same build (the two self-update files start together and each wants the same two versions): one
 * builds while the others wait for it, since each build is ~8 s of CPU on a 2-core machine that
 * the rest of the suite needs. Each builds into a folder of its own and renames it into place, so
 * none ever sees a half-written one. */
export async function cachedLinuxBuild(version: string): Promise<string> {
  const builds = path.join(CACHE_DIR, 'update-builds');
  const out = path.join(builds, version);
  const { identity } = await bundleAgent({ platform: 'linux', nodeVersion: NODE_VERSIONS.shipped, version });
  const current = async () => (await readFile(path.join(out, 'build-info.json'), 'utf8').then((t) => JSON.parse(t) as { digest: string }, () => undefined))?.digest === identity.digest;
  if (await current()) return path.join(out, 'pswm');
  await mkdir(builds, { recursive: true });
  return oneAtATime(`${out}.lock`, async () => {
    if (await current()) return path.join(out, 'pswm');
    const work = await mkdtemp(path.join(builds, `.${version}-`));
    try {
      await buildSingle({ platform: 'linux', out: work, version });
      await moveIntoPlace(work, out, current);
      return path.join(out, 'pswm');
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { platform: { type: 'string' }, out: { type: 'string' }, node: { type: 'string' }, version: { type: 'string' } } });
  const platform = values.platform;
  if (platform !== 'linux' && platform !== 'windows') throw new Error('--platform linux|windows is required');
  const out = path.resolve(values.out ?? path.join(REPO_ROOT, 'agent', platform === 'windows' ? 'dist-windows' : 'dist-linux'));
  const started = Date.now();
  const result = await buildSingle({ platform, out, nodeVersion: values.node, version: values.version });
  process.stdout.write(`${result.executable}: pswm ${result.version}, sources sha256 ${result.digest}, ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

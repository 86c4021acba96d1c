// node-pty beside a built agent (the compiled copy, the single executables): its JavaScript and the
// native addon for the target — build/Release (compiled by node-gyp at install, for this machine) or
// the package's prebuilds/<platform>-<arch> (Windows and macOS binaries, ConPTY's included). The agent
// requires it from <dir>/node_modules only when a console session starts.
import { cp } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';

export async function copyNodePty(fromPackageDir: string, nodeModulesDir: string, target: { platform: NodeJS.Platform; arch: string }): Promise<void> {
  const require = createRequire(path.join(fromPackageDir, 'package.json'));
  const ptyDir = path.dirname(require.resolve('node-pty/package.json'));
  const out = path.join(nodeModulesDir, 'node-pty');
  const native = target.platform === process.platform && target.arch === process.arch ? ['build/Release'] : [];
  for (const name of ['package.json', 'lib', 'LICENSE', ...native, `prebuilds/${target.platform}-${target.arch}`]) {
    await cp(path.join(ptyDir, name), path.join(out, name), { recursive: true, filter: (source) => !/\.(test\.js|map|pdb)$/.test(source) }).catch((error) => {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    });
  }
}

// The agent as one CommonJS file (esbuild), for the single-file builds (agent/scripts/build-single.ts).
// Node's single executable applications run one CommonJS script, so every module the agent can load
// (the lazy subcommands too) is inlined; the build's identity goes in as the PSWM_BUILD constant
// (agent/src/service/build-identity.ts) with the sha256 of the sources it was built from.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { build } from 'esbuild';
import type { BuildIdentity } from '../src/service/build-identity.ts';

export const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..');
const ENTRY = path.join(REPO_ROOT, 'agent', 'src', 'cli', 'main.ts');
const DIGEST_PLACEHOLDER = 'd'.repeat(64);

export interface Bundle {
  code: string;
  identity: BuildIdentity;
  /** Repository-relative paths of the bundled sources. */
  inputs: string[];
}

/** sha256 over "path\0sha256(content)\n" lines of the sources, sorted by path: changes exactly when
 * a bundled file does, whatever the order esbuild visited them in. */
export async function sourcesDigest(files: readonly string[]): Promise<string> {
  const lines = await Promise.all([...files].sort().map(async (file) => `${file}\0${createHash('sha256').update(await readFile(path.join(REPO_ROOT, file))).digest('hex')}\n`));
  return createHash('sha256').update(lines.join('')).digest('hex');
}

export async function bundleAgent(opts: { platform: 'linux' | 'windows'; nodeVersion: string; version?: string }): Promise<Bundle> {
  const agentPackage = JSON.parse(await readFile(path.join(REPO_ROOT, 'agent', 'package.json'), 'utf8')) as { version: string };
  const identity: BuildIdentity = {
    version: opts.version ?? agentPackage.version,
    digest: DIGEST_PLACEHOLDER,
    platform: opts.platform,
    node: opts.nodeVersion,
    built_at: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  };
  const result = await build({
    entryPoints: [ENTRY],
    absWorkingDir: REPO_ROOT,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: `node${opts.nodeVersion.split('.')[0]}`,
    write: false,
    metafile: true,
    legalComments: 'none',
    logLevel: 'error',
    // ws loads these native speed-ups in a try/catch and works without them; node-pty is native and
    // ships beside the executable (build-single.ts)
    external: ['bufferutil', 'utf-8-validate', 'node-pty'],
    define: {
      PSWM_BUILD: JSON.stringify(identity),
      // a CommonJS bundle has no import.meta: the few modules that resolve files from their own
      // URL get the executable's (nothing in a bundle reads files beside it)
      'import.meta.url': 'PSWM_MODULE_URL',
      'import.meta.dirname': '__dirname',
    },
    banner: { js: 'var PSWM_MODULE_URL = require("node:url").pathToFileURL(__filename).href;' },
  });
  // real files only (esbuild lists `<define:...>` pseudo-inputs too), packages included
  const inputs = Object.keys(result.metafile.inputs).filter((file) => !file.startsWith('<')).map((file) => file.split(path.sep).join('/'));
  identity.digest = await sourcesDigest(inputs);
  const code = result.outputFiles[0].text.replaceAll(DIGEST_PLACEHOLDER, identity.digest);
  return { code, identity, inputs };
}

// `npm run build -w agent` (node agent/scripts/build-dist.ts [--out DIR]): the compiled copy of the
// agent that the installed service runs (agent/src/service/compiled-copy.ts says why). Not a
// bundler: tsc emits each source file as it is (types erased, relative .ts imports → .js), and the
// two run-time packages are laid out beside it in node_modules/ so the copy is self-contained:
//   DIR/agent/src/**.js                 the agent
//   DIR/agent/package.json              its version (the `agent` fact reads it)
//   DIR/node_modules/@pswm/schemas/     the schemas modules the agent imports (src/*.js, json/)
//   DIR/node_modules/ws/                copied from the installed ws package
//   DIR/node_modules/node-pty/          copied from the installed node-pty (its compiled addon included),
//                                       loaded only when a console session starts
//   DIR/build-info.json                 sha256 of every source it was built from
import { spawnSync } from 'node:child_process';
import { cp, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { copyNodePty } from './node-pty-files.ts';
import { BUILD_INFO_FILE, DEFAULT_COMPILED_DIR, SOURCE_ROOT, sourceDigests, type BuildInfo } from '../src/service/compiled-copy.ts';

const { values } = parseArgs({ options: { out: { type: 'string' } } });
const out = path.resolve(values.out ?? DEFAULT_COMPILED_DIR);
const require = createRequire(import.meta.url);

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

await rm(out, { recursive: true, force: true });
// typescript's exports hide bin/tsc: resolve the package, then its bin
const tscBin = path.join(path.dirname(require.resolve('typescript/package.json')), 'bin', 'tsc');
const tsc = spawnSync(process.execPath, [tscBin, '-p', path.join(SOURCE_ROOT, 'agent', 'tsconfig.dist.json'), '--outDir', out], { stdio: 'inherit' });
if (tsc.status !== 0) throw new Error(`tsc failed with exit status ${tsc.status}`);

// every emitted file names its source: DIR/<repo path>.js ← <repo path>.ts
const emitted = (await filesUnder(out)).filter((file) => file.endsWith('.js')).map((file) => path.relative(out, file));
const sources = emitted.map((file) => file.replace(/\.js$/, '.ts').split(path.sep).join('/'));

const schemasOut = path.join(out, 'node_modules', '@pswm', 'schemas');
await mkdir(path.dirname(schemasOut), { recursive: true });
await rename(path.join(out, 'schemas'), schemasOut);
await cp(path.join(SOURCE_ROOT, 'schemas', 'json'), path.join(schemasOut, 'json'), { recursive: true });
const schemasPackage = JSON.parse(await readFile(path.join(SOURCE_ROOT, 'schemas', 'package.json'), 'utf8'));
const emittedSchemas = new Set(sources.filter((s) => s.startsWith('schemas/')).map((s) => `./${s.slice('schemas/'.length)}`));
const exportsMap = Object.fromEntries(
  Object.entries(schemasPackage.exports as Record<string, string>)
    .filter(([, target]) => emittedSchemas.has(target) || target.startsWith('./json/'))
    .map(([key, target]) => [key, target.replace(/\.ts$/, '.js')]),
);
await writeFile(path.join(schemasOut, 'package.json'), JSON.stringify({ name: schemasPackage.name, version: schemasPackage.version, private: true, type: 'module', exports: exportsMap }, null, 2) + '\n');

const wsDir = path.dirname(require.resolve('ws/package.json', { paths: [path.join(SOURCE_ROOT, 'agent')] }));
const wsOut = path.join(out, 'node_modules', 'ws');
for (const name of ['package.json', 'index.js', 'wrapper.mjs', 'lib', 'LICENSE']) await cp(path.join(wsDir, name), path.join(wsOut, name), { recursive: true });

await copyNodePty(path.join(SOURCE_ROOT, 'agent'), path.join(out, 'node_modules'), { platform: process.platform, arch: process.arch });

const agentPackage = JSON.parse(await readFile(path.join(SOURCE_ROOT, 'agent', 'package.json'), 'utf8'));
await writeFile(path.join(out, 'agent', 'package.json'), JSON.stringify({ name: agentPackage.name, version: agentPackage.version, private: true, type: 'module' }, null, 2) + '\n');

const info: BuildInfo = { built_at: new Date().toISOString(), sources: await sourceDigests(SOURCE_ROOT, sources) };
await writeFile(path.join(out, BUILD_INFO_FILE), JSON.stringify(info, null, 2) + '\n');
process.stdout.write(`compiled copy of the agent: ${out} (${sources.length} modules)\n`);

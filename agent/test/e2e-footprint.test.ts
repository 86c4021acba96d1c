// What keeps the agent small (docs/BENCHMARKS.md "Agent"): an iteration loads none of the policy
// toolchain (ajv, yaml, isomorphic-git, the schemas index) nor an HTTP stack with a resident
// WebAssembly parser (undici, Node's bundled fetch); and the compiled copy the service runs works
// without Node's TypeScript stripper.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SERVICE_NODE_FLAGS } from '../src/service/unit-files.ts';
import { enrolledAgent, startFleet, type PswmResult } from './support/fleet.ts';
import { makeTempDir } from './support/temp-dir.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const TRACE = pathToFileURL(fileURLToPath(new URL('./support/module-trace.ts', import.meta.url))).href;

interface ModuleTrace {
  loaded: string[];
  internal: string[];
}

function run(args: string[], env: Record<string, string>): Promise<PswmResult> {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c));
  child.stderr.on('data', (c: Buffer) => (stderr += c));
  return new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

/** Packages (under node_modules) and schemas modules among the loaded URLs. */
function packagesIn(trace: ModuleTrace): string[] {
  const names = trace.loaded.filter((u) => u.includes('/node_modules/')).map((u) => u.split('/node_modules/').pop()!.split('/').slice(0, u.includes('/node_modules/@') ? 2 : 1).join('/'));
  return [...new Set(names)].sort();
}

test('an iteration loads only ws and the schemas pieces it uses, and no WebAssembly HTTP parser', async (t) => {
  const fleet = await startFleet(t);
  const agent = await enrolledAgent(t, fleet, 'lean-01', 'fabrikam/lab-linux');
  const traced = async (urls: boolean): Promise<ModuleTrace> => {
    const traceFile = path.join(agent.home, 'modules.json');
    const env = { PSWM_HOME: agent.home, PSWM_STATE_DIR: path.join(agent.home, 'demo-state'), PSWM_MODULE_TRACE: traceFile, PSWM_TRACE_URLS: urls ? '1' : '0' };
    const once = await run(['--import', TRACE, path.join(REPO, 'agent/src/cli/main.ts'), 'agent', '--once'], env);
    assert.equal(once.code, 0, once.stderr);
    assert.match(once.stderr, /"msg":"reports delivered"/);
    return JSON.parse(await readFile(traceFile, 'utf8'));
  };
  const trace = await traced(true);
  assert.deepEqual(packagesIn(trace), ['ws'], 'no package but ws is loaded from node_modules (node-pty only when a console starts)');
  const schemas = trace.loaded.filter((u) => u.includes('/schemas/src/')).map((u) => u.slice(u.indexOf('/schemas/src/') + '/schemas/src/'.length)).sort();
  assert.ok(!schemas.includes('index.ts'), 'not the schemas index (ajv, yaml, isomorphic-git behind it)');
  for (const module of schemas) assert.ok(['canonical-json.ts', 'cli/usage.ts', 'console-wire.ts', 'cron.ts', 'input-rules.ts', 'json-schema.ts', 'model.ts'].includes(module), `schemas/src/${module} is not one the agent needs`);
  const internal = (await traced(false)).internal;
  assert.ok(internal.some((m) => m.includes('NativeModule http')), 'the internal list is the real one');
  assert.ok(!internal.some((m) => m.includes('internal/deps/undici')), "Node's bundled undici (fetch, WebSocket) stays unloaded");
});

test('the compiled copy answers --help and runs an enrolled iteration without the TypeScript stripper', async (t) => {
  const out = await makeTempDir(t, 'pswm-dist-');
  const build = await run([path.join(REPO, 'agent/scripts/build-dist.ts'), '--out', out], {});
  assert.equal(build.code, 0, build.stderr);
  const main = path.join(out, 'agent/src/cli/main.js');

  const help = await run([main, '--help'], {});
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /^Usage: pswm <command>/);

  const fleet = await startFleet(t);
  const agent = await enrolledAgent(t, fleet, 'compiled-01', 'fabrikam/lab-linux');
  const env = { PSWM_HOME: agent.home, PSWM_STATE_DIR: path.join(agent.home, 'demo-state') };
  // with type stripping off, loading any .ts file would fail: the copy is JavaScript throughout
  const once = await run(['--no-experimental-strip-types', ...SERVICE_NODE_FLAGS, main, 'agent', '--once'], env);
  assert.equal(once.code, 0, once.stderr);
  assert.match(once.stderr, /"msg":"iteration finished","result":"ok"/);
  assert.match(once.stderr, /"msg":"reports delivered","sent":1/);

  const root = await makeTempDir(t, 'pswm-root-');
  await mkdir(path.join(root, 'run/systemd/system'), { recursive: true }); // a root where systemd runs
  const installed = await run(['--no-experimental-strip-types', main, 'install_svc', '--root', root, '--data-dir', '/var/lib/pswm'], env);
  assert.equal(installed.code, 0, installed.stderr);
  const unit = await readFile(path.join(root, 'etc/systemd/system/pswm.service'), 'utf8');
  assert.ok(unit.includes(`ExecStart=${process.execPath} ${SERVICE_NODE_FLAGS.join(' ')} ${main} service`), unit);
});

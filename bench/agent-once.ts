// `npm run bench:agent-once`: wall time of one whole `pswm agent --once` process (start-up, an
// iteration against a real server with the lab's desired state unchanged, the report delivered,
// exit) — run through agent/bin/pswm.js, which takes the compiled copy when it is current, beside
// the TypeScript sources and a bare `node -e 0` measured in the same run. Builds agent/dist first.
// Prints a markdown section for docs/BENCHMARKS.md ("pswm agent --once").
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { freshDatabase } from '../server/test/support/database.ts';
import { runServerCommand, startServerProcess } from '../server/test/support/server-process.ts';
import { AGENT_SOURCES_MAIN, buildCompiledAgent } from './agent-idle.ts';

const PSWM_BIN = fileURLToPath(new URL('../agent/bin/pswm.js', import.meta.url));
const DEFAULT_DIST = fileURLToPath(new URL('../agent/dist', import.meta.url));
const { values } = parseArgs({ options: { runs: { type: 'string', default: '7' } } });
const runs = Number(values.runs);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const timed = (args: string[], env: NodeJS.ProcessEnv) =>
  new Promise<{ ms: number; code: number | null; output: string }>((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c));
    child.stderr.on('data', (c: Buffer) => (output += c));
    child.once('close', (code) => resolve({ ms: performance.now() - started, code, output }));
  });

const lines: string[] = [];
const out = (line = '') => {
  lines.push(line);
  process.stderr.write(line + '\n');
};

await buildCompiledAgent(DEFAULT_DIST);
const work = await mkdtemp(path.join(os.tmpdir(), 'pswm-bench-once-'));
const db = await freshDatabase(undefined, { migrate: false });
const serverDir = path.join(work, 'server');
const agentDir = path.join(work, 'agent');
const server = await startServerProcess({ dataDir: serverDir, env: { DATABASE_URL: db.url } });
try {
  const adminToken = (await readFile(path.join(serverDir, 'initial-admin-token'), 'utf8')).trim();
  const created = await runServerCommand(['agent', 'create', 'bench-once', '--org', 'fabrikam', '--location', 'lab-linux', '--server', server.url], { PSWM_ADMIN_TOKEN: adminToken });
  const env = { ...process.env, PSWM_HOME: agentDir, PSWM_STATE_DIR: path.join(work, 'demo-state'), PSWM_LOG_LEVEL: 'warn' };
  const enrolled = await timed([AGENT_SOURCES_MAIN, 'enroll', '--server', server.url, '--token', created.stdout.split('\n')[0].trim()], env);
  if (enrolled.code !== 0) throw new Error(`enroll failed: ${enrolled.output}`);
  const first = await timed([PSWM_BIN, 'agent', '--once'], env); // applies the lab scripts once
  if (first.code !== 0) throw new Error(`pswm agent --once failed: ${first.output}`);

  const rows: Array<[string, string[]]> = [
    ['baseline: `node -e 0`', ['-e', '0']],
    ['`pswm agent --once` (agent/bin/pswm.js → the compiled copy)', [PSWM_BIN, 'agent', '--once']],
    ['`node agent/src/cli/main.ts agent --once` (the TypeScript sources)', [AGENT_SOURCES_MAIN, 'agent', '--once']],
  ];
  const results: Array<[string, number[]]> = [];
  for (const [label, args] of rows) results.push([label, []]);
  for (let i = 0; i < runs; i++) {
    // interleaved, so a busy moment of the shared machine hits every row alike
    for (const [index, [, args]] of rows.entries()) {
      const run = await timed(args, env);
      if (run.code !== 0) throw new Error(`${args.join(' ')} exited ${run.code}: ${run.output}`);
      results[index][1].push(run.ms);
    }
  }
  out('## pswm agent --once');
  out();
  out(`Command: \`npm run bench:agent-once\` (\`node bench/agent-once.ts --runs ${runs}\`). Date: ${new Date().toISOString().slice(0, 10)}.`);
  out(`Machine: ${os.cpus()[0]?.model.trim()}, ${os.cpus().length} cores, Node ${process.version}, ${os.type()} ${os.release()}; load average ${os.loadavg()[0].toFixed(1)} at the end (a machine shared with other runs).`);
  out();
  out('One whole process: start, the desired state (304, unchanged), facts, the lab\'s scripts checked (in sync), the report delivered to a real server, exit.');
  out();
  out('| process | median | runs (ms) | target |');
  out('|---|---|---|---|');
  for (const [label, ms] of results) {
    const target = label.includes('compiled') ? `≤ 1000 ms: ${median(ms) <= 1000 ? 'met' : 'missed'}` : '';
    out(`| ${label} | ${Math.round(median(ms))} ms | ${ms.map((x) => Math.round(x)).join(', ')} | ${target} |`);
  }
} finally {
  await server.stop('SIGKILL');
  await db.drop();
  await rm(work, { recursive: true, force: true });
}
process.stdout.write(lines.join('\n') + '\n');

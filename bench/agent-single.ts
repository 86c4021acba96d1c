// `npm run bench:agent-single`: size and idle memory of the Linux single-file build (`pswm agent`
// after enrollment, against a real server), beside the Node-run agent measured the same way in the
// same run — the TypeScript sources and the installed service's compiled copy — and a bare Node.
// Prints a markdown section for docs/BENCHMARKS.md ("Single-file builds (idle memory)").
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { cachedLinuxBuild } from '../agent/scripts/build-single.ts';
import { SERVICE_NODE_FLAGS } from '../agent/src/service/unit-files.ts';
import { AGENT_SOURCES_MAIN, buildCompiledAgent, measureBareNode, measureIdleAgent, type IdleMeasurement, type MemorySample } from './agent-idle.ts';

const { values } = parseArgs({ options: { samples: { type: 'string', default: '10' } } });
const samples = Number(values.samples);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const mb = (x: number) => `${x.toFixed(1)} MB`;
const load = () => os.loadavg().map((x) => x.toFixed(2)).join(', ');

const lines: string[] = [];
const out = (line = '') => {
  lines.push(line);
  process.stderr.write(line + '\n');
};

const loadBefore = load();
const executable = await cachedLinuxBuild('bench');
const distDir = await mkdtemp(path.join(os.tmpdir(), 'pswm-bench-dist-'));
try {
  const compiledMain = await buildCompiledAgent(distDir);
  const runs: Array<[string, Parameters<typeof measureIdleAgent>[0]]> = [
    ['single-file Linux build (`pswm agent`)', { executable, samples, settleMs: 5000 }],
    ['baseline: TypeScript sources (`node agent/src/cli/main.ts agent`)', { entry: AGENT_SOURCES_MAIN, samples, settleMs: 5000 }],
    [`baseline: compiled copy, \`${SERVICE_NODE_FLAGS.join(' ')}\` (the installed Node-run service)`, { entry: compiledMain, nodeFlags: SERVICE_NODE_FLAGS, samples, settleMs: 5000 }],
  ];
  const rows: Array<[string, IdleMeasurement | Error]> = [];
  for (const [label, opts] of runs) rows.push([label, await measureIdleAgent(opts).catch((error: Error) => error)]);
  const bare = await measureBareNode(samples, 3000);
  const loadAfter = load();

  out('## Single-file builds (idle memory)');
  out();
  out(`Command: \`npm run bench:agent-single\` (\`node bench/agent-single.ts --samples ${samples}\`).`);
  out(`Date: ${new Date().toISOString().slice(0, 10)}. Machine: ${os.cpus()[0]?.model.trim()}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}, ${os.type()} ${os.release()}.`);
  out(`Load average (1, 5, 15 min): ${loadBefore} before, ${loadAfter} after.`);
  out(`Executable: ${path.relative(process.cwd(), executable)}, ${(await stat(executable)).size.toLocaleString('en-US')} bytes.`);
  out();
  out('| process | RSS (median) | private (RssAnon) | PSS |');
  out('|---|---|---|---|');
  const row = (label: string, s: MemorySample[]) => out(`| ${label} | ${mb(median(s.map((x) => x.rssMb)))} | ${mb(median(s.map((x) => x.anonMb)))} | ${mb(median(s.map((x) => x.pssMb)))} |`);
  for (const [label, m] of rows) {
    if (m instanceof Error) out(`| ${label} | failed: ${m.message.split('\n')[0]} | | |`);
    else row(label, m.samples);
  }
  row('baseline: `node -e "setInterval(() => {}, 60000)"`', bare);
  const note = rows.find(([, m]) => !(m instanceof Error))?.[1] as IdleMeasurement | undefined;
  if (note) out(`\nEach agent enrolled by token against a real pswm-server (fresh PostgreSQL database), sampled once a second, ${samples} times, from 5 s after its first report was delivered (${note.note}).`);
  process.stdout.write(lines.join('\n') + '\n');
} finally {
  await rm(distDir, { recursive: true, force: true });
}

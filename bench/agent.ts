// `npm run bench:agent`: idle memory of a running `pswm agent`, wall time of a no-op converge of 50
// scripts in sync, and Debian's `puppet apply` on the equivalent manifest as a reference point.
// Prints a markdown section for docs/BENCHMARKS.md ("Agent").
import os from 'node:os';
import { parseArgs } from 'node:util';
import { measureNoopConverge, measureNoopConvergeWith, measurePuppetApply, puppetVersion } from './agent-converge.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { SERVICE_NODE_FLAGS } from '../agent/src/service/unit-files.ts';
import { AGENT_SOURCES_MAIN, buildCompiledAgent, measureBareNode, measureIdleAgent, type IdleMeasurement, type MemorySample } from './agent-idle.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, samples: { type: 'string', default: '10' }, resources: { type: 'string', default: '50' } } });
const runs = Number(values.runs);
const samples = Number(values.samples);
const resources = Number(values.resources);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const ms = (x: number) => `${Math.round(x)} ms`;
const mb = (x: number) => `${x.toFixed(1)} MB`;
const verdict = (value: number, target: number) => (value <= target ? 'met' : 'missed');

const lines: string[] = [];
const out = (line = '') => {
  lines.push(line);
  process.stderr.write(line + '\n');
};

out('## Agent');
out();
out(`Command: \`npm run bench:agent\` (\`node bench/agent.ts --runs ${runs} --samples ${samples}\`).`);
out(`Machine: ${os.cpus()[0]?.model.trim()}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}, ${os.type()} ${os.release()}.`);
out();

const distDir = await mkdtemp(path.join(os.tmpdir(), 'pswm-bench-dist-'));
const compiledMain = await buildCompiledAgent(distDir);
const idleRuns: Array<[string, string, readonly string[]]> = [
  ['TypeScript sources (`node agent/src/cli/main.ts agent`)', AGENT_SOURCES_MAIN, []],
  ['compiled copy (`npm run build -w agent`)', compiledMain, []],
  [`compiled copy, \`${SERVICE_NODE_FLAGS.join(' ')}\`: **the installed service**`, compiledMain, SERVICE_NODE_FLAGS],
];
const idleRows: Array<[string, IdleMeasurement | Error]> = [];
for (const [label, entry, flags] of idleRuns) {
  idleRows.push([label, await measureIdleAgent({ entry, samples, settleMs: 5000, nodeFlags: flags }).catch((error: Error) => error)]);
}
const bare = await measureBareNode(samples, 3000);
out(`### Idle memory (target RSS ≤ 60 MB)`);
out();
out('| process | RSS (median) | private (RssAnon) | PSS | target | |');
out('|---|---|---|---|---|---|');
const memoryRow = (label: string, s: MemorySample[], tail: string) =>
  out(`| ${label} | ${mb(median(s.map((x) => x.rssMb)))} | ${mb(median(s.map((x) => x.anonMb)))} | ${mb(median(s.map((x) => x.pssMb)))} | ${tail} |`);
for (const [label, m] of idleRows) {
  if (m instanceof Error) out(`| ${label} | failed: ${m.message.split('\n')[0]} | | | ≤ 60 MB | |`);
  else memoryRow(label, m.samples, `≤ 60 MB | ${verdict(median(m.samples.map((x) => x.rssMb)), 60)}`);
}
memoryRow('baseline: `node -e "setInterval(() => {}, 60000)"`', bare, ' | ');
const note = idleRows.find(([, m]) => !(m instanceof Error))?.[1] as IdleMeasurement | undefined;
if (note) out(`\nSampled once a second, ${samples} times, from 5 s after the first report was delivered (${note.note}).`);
out();
out("The agent's own view at the end of sampling (`process.memoryUsage()`, MB):");
out();
out('| process | rss | heapTotal | heapUsed | external | arrayBuffers |');
out('|---|---|---|---|---|---|');
for (const [label, m] of idleRows) {
  if (!(m instanceof Error) && m.breakdown) out(`| ${label} | ${mb(m.breakdown.rss)} | ${mb(m.breakdown.heapTotal)} | ${mb(m.breakdown.heapUsed)} | ${mb(m.breakdown.external)} | ${mb(m.breakdown.arrayBuffers)} |`);
}
out();

out(`### No-op converge, ${resources} scripts in sync (target ≤ 300 ms, scripts' own time excluded)`);
out();
const converge = await measureNoopConverge(resources, runs);
const wall = median(converge.map((s) => s.wallMs));
const checks = median(converge.map((s) => s.checksWallMs));
const overhead = median(converge.map((s) => s.wallMs - s.checksWallMs));
out('| measurement | median | samples |');
out('|---|---|---|');
out(`| converge() wall time | ${ms(wall)} | ${converge.map((s) => Math.round(s.wallMs)).join(', ')} |`);
out(`| the ${resources} check processes, spawn → exit, summed | ${ms(checks)} | ${converge.map((s) => Math.round(s.checksWallMs)).join(', ')} |`);
out(`| their CPU time (children user + system) | ${ms(median(converge.map((s) => s.checksCpuMs)))} | ${converge.map((s) => Math.round(s.checksCpuMs)).join(', ')} |`);
out(`| **agent's own time** (wall − checks) | **${ms(overhead)}** (target ≤ 300 ms: ${verdict(overhead, 300)}) | ${converge.map((s) => Math.round(s.wallMs - s.checksWallMs)).join(', ')} |`);
const lite = await measureNoopConvergeWith(SERVICE_NODE_FLAGS, path.join(path.dirname(path.dirname(compiledMain)), 'converge', 'converge.js'), resources, runs);
await rm(distDir, { recursive: true, force: true });
const liteOverhead = lite.map((s) => s.wallMs - s.checksWallMs);
out(`| agent's own time as the installed service runs it (compiled copy, \`${SERVICE_NODE_FLAGS.join(' ')}\`) | ${ms(median(liteOverhead))} (target ≤ 300 ms: ${verdict(median(liteOverhead), 300)}) | ${liteOverhead.map((x) => Math.round(x)).join(', ')} |`);
out();

out(`### Reference: \`puppet apply\`, ${resources} exec resources with \`unless\` guards`);
out();
const version = puppetVersion();
if (!version) {
  out('puppet is not installed (`apt-get update && apt-get install -y puppet`): no reference figures in this run.');
} else {
  const puppet = await measurePuppetApply(resources, runs);
  out(`Puppet ${version} (Debian package), same check scripts, \`puppet apply --color=false bench.pp\`.`);
  out();
  out('| measurement | median | samples |');
  out('|---|---|---|');
  out(`| puppet apply wall time | ${ms(median(puppet.map((s) => s.wallMs)))} | ${puppet.map((s) => Math.round(s.wallMs)).join(', ')} |`);
  out(`| of which "Compiled catalog" | ${ms(median(puppet.map((s) => s.compiledMs)))} | ${puppet.map((s) => Math.round(s.compiledMs)).join(', ')} |`);
  out(`| of which "Applied catalog" (the ${resources} guards) | ${ms(median(puppet.map((s) => s.appliedMs)))} | ${puppet.map((s) => Math.round(s.appliedMs)).join(', ')} |`);
}
out();
process.stdout.write(lines.join('\n') + '\n');

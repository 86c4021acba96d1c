// Start-up of a real `pswm-server start` with the embedded database: a first start on an empty data
// directory and a restart on the same directory, wall time to the "listening" line and the server's
// CPU time by then (wall time on a shared machine depends on its load; CPU time much less), with the
// stages the server logs. Baseline in the same run: what a first start without the prepared template
// spends creating the database (PGlite's initdb), against copying the template and opening it, each in
// a fresh process.
//   node bench/start.ts [--runs 3]
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startServerProcess } from '../server/test/support/server-process.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' } } });
const RUNS = Number(values.runs);
const TEMPLATE_MODULE = new URL('../server/src/db/embedded-template.ts', import.meta.url).href;

async function cpuSeconds(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks of 1/100 s
}

async function timedStart(dataDir: string) {
  const began = performance.now();
  const server = await startServerProcess({ dataDir });
  const wallS = (performance.now() - began) / 1000;
  const cpuS = await cpuSeconds(server.pid);
  const stages = [...server.logs().matchAll(/"stage":"([^"]+)","sinceStartMs":(\d+)/g)].map((m) => `${m[1]} ${(Number(m[2]) / 1000).toFixed(1)}`);
  await server.stop();
  return { wallS, cpuS, stages };
}

/** Seconds a fresh process needs to get an open PGlite in an empty directory, by `how`. */
function pgliteOpen(how: 'initdb' | 'template', dir: string): number {
  const code = `
    const { PGlite } = await import('@electric-sql/pglite');
    const { copyTemplate } = await import(${JSON.stringify(TEMPLATE_MODULE)});
    const t0 = performance.now();
    if (${JSON.stringify(how)} === 'template' && !(await copyTemplate(${JSON.stringify(dir)}))) throw new Error('no prepared template: run npm install');
    const db = await PGlite.create(${JSON.stringify(dir)});
    await db.query('select 1');
    console.log((performance.now() - t0) / 1000);
    await db.close();`;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: path.dirname(new URL(import.meta.url).pathname), encoding: 'utf8' });
  if (result.status !== 0) throw new Error(result.stderr);
  return Number(result.stdout.trim());
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (xs: number[]) => `${median(xs).toFixed(1)} s (${xs.map((x) => x.toFixed(1)).join(', ')})`;

const first: Awaited<ReturnType<typeof timedStart>>[] = [];
const restart: typeof first = [];
const initdb: number[] = [];
const template: number[] = [];
for (let run = 0; run < RUNS; run++) {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'pswm-bench-start-'));
  try {
    first.push(await timedStart(dataDir));
    restart.push(await timedStart(dataDir));
    initdb.push(pgliteOpen('initdb', path.join(dataDir, 'initdb')));
    template.push(pgliteOpen('template', path.join(dataDir, 'template')));
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}
console.log(`runs: ${RUNS}; load average at the end: ${os.loadavg().map((x) => x.toFixed(1)).join(', ')}; ${os.cpus().length} cores`);
console.log(`first start to listening: wall ${fmt(first.map((r) => r.wallS))}, server CPU ${fmt(first.map((r) => r.cpuS))}`);
console.log(`restart to listening:     wall ${fmt(restart.map((r) => r.wallS))}, server CPU ${fmt(restart.map((r) => r.cpuS))}`);
console.log(`baseline, new database by initdb:   ${fmt(initdb)}`);
console.log(`new database from the template:     ${fmt(template)}`);
console.log(`stages of the last first start (s since process start): ${first.at(-1)!.stages.join('; ')}`);
console.log(`stages of the last restart: ${restart.at(-1)!.stages.join('; ')}`);

// Numbers for the fleet benchmark: percentiles, merging the simulators' raw samples, and a process's
// memory and CPU read from /proc (Linux).
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { SimStats } from './fleet-protocol.ts';

// USER_HZ: 100 on every Linux this runs on (getconf CLK_TCK).
const CLOCK_TICKS = 100;

export function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** Nearest-rank percentile (q in 0..1) of unsorted samples; NaN when there are none. */
export function percentile(values: number[], q: number): number {
  if (!values.length) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

export function mergeStats(parts: SimStats[]): SimStats {
  const merged: SimStats = { latencies: {}, errors: {}, signals: [], documentChanges: [], baselineMessages: [], connects: [] };
  for (const part of parts) {
    for (const [endpoint, values] of Object.entries(part.latencies)) (merged.latencies[endpoint] ??= []).push(...values);
    for (const [key, n] of Object.entries(part.errors)) merged.errors[key] = (merged.errors[key] ?? 0) + n;
    merged.signals.push(...part.signals);
    merged.documentChanges.push(...part.documentChanges);
    merged.baselineMessages.push(...part.baselineMessages);
    merged.connects.push(...part.connects);
    if (part.wakePolls) (merged.wakePolls ??= []).push(...part.wakePolls);
    if (part.skipped) merged.skipped = (merged.skipped ?? 0) + part.skipped;
    if (part.loopDelay) merged.loopDelay = { p99Ms: Math.max(part.loopDelay.p99Ms, merged.loopDelay?.p99Ms ?? 0), maxMs: Math.max(part.loopDelay.maxMs, merged.loopDelay?.maxMs ?? 0) };
  }
  return merged;
}

/** Cumulative counts of one route's answers of one status by latency bucket bound (seconds), read
 * from a server's `pswm_http_request_duration_seconds` histogram in a /metrics text. */
export function latencyBuckets(metricsText: string, route: string, status: string): Map<number, number> {
  const buckets = new Map<number, number>();
  for (const line of metricsText.split('\n')) {
    if (!line.startsWith('pswm_http_request_duration_seconds_bucket{')) continue;
    const labels = Object.fromEntries([...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (labels.route !== route || labels.status_code !== status) continue;
    const bound = labels.le === '+Inf' ? Infinity : Number(labels.le);
    buckets.set(bound, (buckets.get(bound) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return buckets;
}

/** The smallest bucket bound (ms; Infinity past the last) under which 99 % of the answers counted
 * between two reads of latencyBuckets fell, and how many there were. */
export function p99Bound(before: Map<number, number>, after: Map<number, number>): { boundMs: number; count: number } {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const count = (after.get(Infinity) ?? 0) - (before.get(Infinity) ?? 0);
  if (!count) return { boundMs: 0, count };
  return { boundMs: bounds.find((b) => after.get(b)! - (before.get(b) ?? 0) >= 0.99 * count)! * 1000, count };
}

/** "≤ 50 ms (4,812)", "past the last bucket (12)", "— (0)". */
export function describeBound({ boundMs, count }: { boundMs: number; count: number }): string {
  if (!count) return '— (0)';
  return `${boundMs === Infinity ? 'past the last bucket' : `≤ ${boundMs} ms`} (${count.toLocaleString('en-US')})`;
}

/** A markdown table of requests per endpoint over `seconds`, and the errors. */
export function summarize(stats: SimStats, seconds: number): string[] {
  const rows = Object.entries(stats.latencies).sort(([a], [b]) => a.localeCompare(b)).map(([endpoint, values]) =>
    `| ${endpoint} | ${values.length.toLocaleString('en-US')} | ${(values.length / seconds).toFixed(1)} | ${percentile(values, 0.5).toFixed(1)} ms | ${percentile(values, 0.99).toFixed(1)} ms | ${Math.max(...values).toFixed(1)} ms |`);
  const errors = Object.entries(stats.errors).map(([key, n]) => `${key}: ${n}`).join(', ');
  return [
    '| endpoint | requests | per second | p50 | p99 | max |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
    `Errors: ${errors || 'none'}.`,
  ];
}

/** Resident memory of a process (VmRSS). */
export async function rssBytesOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
  if (!kb) throw new Error(`no VmRSS for process ${pid}`);
  return Number(kb) * 1024;
}

/** utime + stime of a process. */
export async function cpuMsOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

/** Pids of every process whose command name is `name` (e.g. every PostgreSQL backend). */
export async function pidsNamed(name: string): Promise<number[]> {
  const pids = (await readdir('/proc')).filter((entry) => /^\d+$/.test(entry));
  const named = await Promise.all(pids.map(async (pid) => {
    const comm = await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '');
    return comm.trim() === name ? Number(pid) : undefined;
  }));
  return named.filter((pid): pid is number => pid !== undefined);
}

/** CPU time of a set of processes, counting only those alive at both reads (a backend that ends is lost). */
export async function cpuMsOfAll(pids: number[]): Promise<Map<number, number>> {
  const read = await Promise.all(pids.map((pid) => cpuMsOf(pid).then((ms) => [pid, ms] as const, () => undefined)));
  return new Map(read.filter((entry) => entry !== undefined));
}

/** CPU time of the whole machine (all cores), from /proc/stat: busy (everything but idle, iowait and
 * steal), and stolen: time this virtual machine was ready to run while the hypervisor gave its cores
 * to another guest. A run with much steal measured a slower machine than it says. */
export async function machineCpuMs(): Promise<{ busy: number; steal: number }> {
  const first = (await readFile('/proc/stat', 'utf8')).split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = first;
  return { busy: ((user + nice + system + irq + softirq) * 1000) / CLOCK_TICKS, steal: (steal * 1000) / CLOCK_TICKS };
}

/** Connections the kernel dropped because a listening socket's accept queue was full (machine-wide,
 * since boot: TcpExt ListenOverflows in /proc/net/netstat). Each dropped SYN makes a client wait for
 * its retry (1, 3, 7, 15, 31 s later). */
export async function listenOverflows(): Promise<number> {
  const lines = (await readFile('/proc/net/netstat', 'utf8')).split('\n');
  const header = lines.findIndex((line) => line.startsWith('TcpExt:'));
  const names = lines[header].split(/\s+/);
  const values = lines[header + 1].split(/\s+/);
  return Number(values[names.indexOf('ListenOverflows')]);
}

/** How many connections wait in each listening port's accept queue now (Recv-Q of `ss -ltn`): the
 * kernel has completed them, the server has not yet taken them. */
export async function acceptQueues(ports: number[]): Promise<number[]> {
  const { execFile } = await import('node:child_process');
  const text = await new Promise<string>((resolve, reject) => execFile('ss', ['-ltnH'], (error, stdout) => (error ? reject(error) : resolve(stdout))));
  const queued = new Map<number, number>();
  for (const line of text.split('\n')) {
    const [, recvQ, , local] = line.trim().split(/\s+/);
    const port = Number(local?.slice(local.lastIndexOf(':') + 1));
    if (port) queued.set(port, Number(recvQ));
  }
  return ports.map((port) => queued.get(port) ?? Number.NaN);
}

/** CPU time used so far by each server, the simulators, PostgreSQL, this process and the machine. */
export interface CpuSnapshot {
  serverMs: number[];
  simMs: Map<number, number>;
  postgresMs: Map<number, number>;
  benchMs: number;
  machine: { busy: number; steal: number };
}

export async function cpuSnapshot(serverPids: number[], simPids: number[]): Promise<CpuSnapshot> {
  const [serverMs, simMs, postgresMs, machine] = await Promise.all([
    Promise.all(serverPids.map(cpuMsOf)), cpuMsOfAll(simPids), pidsNamed('postgres').then(cpuMsOfAll), machineCpuMs(),
  ]);
  const bench = process.cpuUsage();
  return { serverMs, simMs, postgresMs, machine, benchMs: (bench.user + bench.system) / 1000 };
}

/** "27 % + 26 %; 70 %; 43 %; 4 %; 204 % (steal 0 %)": each server, simulators, PostgreSQL, the bench
 * and the machine between two snapshots, as shares of one core: whether a server that is slow to
 * accept is short of CPU itself or starved by the rest of the machine. */
export function describeCpuBetween(before: CpuSnapshot, after: CpuSnapshot, windowMs: number): string {
  const share = (ms: number) => `${((ms / windowMs) * 100).toFixed(0)} %`;
  return [
    after.serverMs.map((ms, i) => share(ms - before.serverMs[i])).join(' + '),
    share(cpuMsBetween(before.simMs, after.simMs)),
    share(cpuMsBetween(before.postgresMs, after.postgresMs)),
    share(after.benchMs - before.benchMs),
    `${share(after.machine.busy - before.machine.busy)} (steal ${share(after.machine.steal - before.machine.steal)})`,
  ].join('; ');
}

/** CPU time spent between two reads of `cpuMsOfAll`, over the processes present in both. */
export function cpuMsBetween(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, ms] of after) total += before.has(pid) ? ms - before.get(pid)! : 0;
  return total;
}

/** An event-loop stall a server recorded (bench/loop-stalls.ts): its end, its length, how much of it
 * the main thread ran, and how long it waited for a core (absent in stalls recorded without procfs). */
export interface Stall {
  /** The start of the timer interval the stall was in. */
  from: number;
  at: number;
  wallMs: number;
  cpuMs: number;
  queuedMs?: number;
  /** Garbage collection within the stall (recorded apart; absent when none), and its kinds (with the heap after each, where recorded). */
  gcMs?: number;
  gcKinds?: string[];
}

/** "74 ms (22 on CPU, 40 waiting for a core, 12 in GC)": the rest of a stall the thread slept (blocked, or idle). */
export function describeStall(stall: Stall): string {
  const queued = stall.queuedMs === undefined ? '' : `, ${stall.queuedMs} waiting for a core`;
  const gc = stall.gcMs ? `, ${stall.gcMs} in GC (${stall.gcKinds?.join(', ')})` : '';
  return `${stall.wallMs} ms (${stall.cpuMs} on CPU${queued}${gc})`;
}

/** A garbage collection of 5 ms or more that a server recorded (bench/loop-stalls.ts). */
export interface Collection {
  gcAt: number;
  gcMs: number;
  gcKind: string;
  /** V8's flags on it, when any: "external memory", "forced", ... (absent in older records). */
  gcReasons?: string[];
  /** The young generation's and the whole heap's use soon after it, in MB (absent in older records). */
  youngMB?: number;
  heapMB?: number;
  /** Memory held outside the heap by ArrayBuffers, in MB (absent in older records). */
  externalMB?: number;
  /** Major collections: the most external memory sampled since the previous one, and its age in s. */
  externalPeakMB?: number;
  sinceMajorS?: number;
}

/** Everything recorded in `dir` (every process of one instance). */
async function recordsIn(dir: string): Promise<Array<Stall | Collection>> {
  const files = (await readdir(dir)).filter((name) => name.endsWith('.jsonl'));
  const texts = await Promise.all(files.map((name) => readFile(path.join(dir, name), 'utf8')));
  return texts.flatMap((text) => text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Stall | Collection));
}

/** The stalls that ended and the collections that started within [from, to], from one read of `dir`. */
export async function recordedIn(dir: string, from: number, to: number): Promise<{ stalls: Stall[]; collections: Collection[] }> {
  const lines = await recordsIn(dir);
  const collections = lines.filter((line): line is Collection => 'gcAt' in line);
  const stalls = lines.filter((line): line is Stall => 'wallMs' in line && line.at >= from && line.at <= to).map((stall) => {
    const within = collections.filter((gc) => gc.gcAt < stall.at && gc.gcAt + gc.gcMs > stall.from);
    const gcMs = sum(within.map((gc) => Math.min(stall.at, gc.gcAt + gc.gcMs) - Math.max(stall.from, gc.gcAt)));
    return gcMs ? { ...stall, gcMs: Math.round(gcMs), gcKinds: [...new Set(within.map(collectionKind))] } : stall;
  });
  return { stalls, collections: collections.filter((gc) => gc.gcAt >= from && gc.gcAt <= to) };
}

/** "major", or with V8's reasons "major for external memory". */
function kindAndReasons(gc: Collection): string {
  return gc.gcReasons?.length ? `${gc.gcKind} for ${gc.gcReasons.join(', ')}` : gc.gcKind;
}

/** "minor", or with what was recorded "major for external memory: young 3 MB, heap 141 MB after". */
export function collectionKind(gc: Collection): string {
  if (gc.heapMB === undefined) return kindAndReasons(gc);
  const external = gc.externalMB === undefined ? '' : `, external ${gc.externalMB} MB`;
  const growth = gc.externalPeakMB === undefined ? '' : `; external up to ${gc.externalPeakMB} MB over the ${gc.sinceMajorS} s since the previous major one`;
  return `${kindAndReasons(gc)}: young ${gc.youngMB} MB, heap ${gc.heapMB} MB${external} after${growth}`;
}

/** "3 collections, 61 ms (minor 2 × 21, major 1 × 19)", or "no collection ≥ 5 ms". */
export function describeCollections(collections: Collection[]): string {
  if (!collections.length) return 'no collection ≥ 5 ms';
  const kinds = [...new Set(collections.map(kindAndReasons))].map((kind) => {
    const ofKind = collections.filter((c) => kindAndReasons(c) === kind);
    return `${kind} ${ofKind.length} × ${Math.max(...ofKind.map((c) => c.gcMs))} ms at most`;
  });
  return `${collections.length} collection${collections.length > 1 ? 's' : ''}, ${sum(collections.map((c) => c.gcMs))} ms (${kinds.join(', ')})`;
}

/** The stalls recorded in `dir` (every process of one instance) that ended within [from, to]. */
export async function stallsIn(dir: string, from: number, to: number): Promise<Stall[]> {
  return (await recordedIn(dir, from, to)).stalls;
}

/** "worst 104 ms (19 on CPU); most on CPU 31 ms (of 45); 6 over 50 ms": the worst stall, the server's own longest, and how often. */
export function describeStalls(stalls: Stall[], overMs: number): string {
  if (!stalls.length) return 'none ≥ 20 ms';
  const worst = stalls.reduce((a, b) => (b.wallMs > a.wallMs ? b : a));
  const busiest = stalls.reduce((a, b) => (b.cpuMs > a.cpuMs ? b : a));
  return `worst ${describeStall(worst)}; most on CPU ${busiest.cpuMs} ms (of ${busiest.wallMs}); ${stalls.filter((s) => s.wallMs > overMs).length} over ${overMs} ms`;
}

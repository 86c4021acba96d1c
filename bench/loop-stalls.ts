// Preloaded into the benchmarked servers by `npm run bench:fleet` (`--import`), never shipped: it
// records each event-loop stall of 20 ms or more with how much of it the server's main thread was on
// a CPU. The fleet bench runs servers, simulators and PostgreSQL on one small machine, and a stall
// is either the server's own work (on CPU) or the server waiting for a core the others hold; only
// the first is the server's to fix. prom-client's lag metric cannot tell them apart. The kernel's
// schedstat of the main thread says how long it sat runnable in a run queue (waiting for a core);
// what is neither on CPU nor queued the thread slept: idle in epoll, or blocked in a system call, a
// page fault or a lock (a GC helper, a full pipe): that part is the server's too. Garbage collections
// of 5 ms or more are written too, for the reader to say how much of a stall they were.
//
// One JSON line per stall in $PSWM_BENCH_STALLS_DIR/<pid>.jsonl: { from and at (epoch ms: the timer
// interval the stall was in, its start and its end), wallMs, cpuMs, queuedMs }, and one per collection: { gcAt (epoch ms, its start), gcMs, gcKind, gcReasons (V8's flags, when any), youngMB, heapMB, externalMB (soon after it); a major one also externalPeakMB and sinceMajorS (the highest external memory sampled since the previous major one, and how long ago that was) }
// (fleet-stats.ts reads them).
import { appendFileSync, readFileSync } from 'node:fs';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import path from 'node:path';
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';

const TICK_MS = 10;
const RECORD_FROM_MS = 20;
const GC_FROM_MS = 5;
const dir = process.env.PSWM_BENCH_STALLS_DIR;
// the main thread's id is the process's
const SCHEDSTAT = `/proc/self/task/${process.pid}/schedstat`;

/** Nanoseconds the main thread has waited in a run queue (schedstat's second field); 0 without procfs. */
function queuedNs(): number {
  try {
    return Number(readFileSync(SCHEDSTAT, 'latin1').split(' ')[1]);
  } catch {
    return 0;
  }
}

/** The heap as the observer sees it, soon after the collections it is told of: what a scavenge
 * left in the young generation (its survivors), the whole heap, and the memory outside it that
 * ArrayBuffers (Buffers) hold, which V8 collects for past a limit, in MB. */
function heapAfter(): { youngMB: number; heapMB: number; externalMB: number } {
  const young = getHeapSpaceStatistics().find((space) => space.space_name === 'new_space');
  const heap = getHeapStatistics();
  const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
  return { youngMB: mb(young?.space_used_size ?? 0), heapMB: mb(heap.used_heap_size), externalMB: mb(heap.external_memory) };
}

/** Why V8 collected, where it says (perf_hooks' gc flags): a full collection for external memory
 * (Buffers) or one forced is atomic, where one for the heap's own growth is mostly concurrent. */
const GC_REASONS: Array<[number, string]> = [
  [constants.NODE_PERFORMANCE_GC_FLAGS_FORCED, 'forced'],
  [constants.NODE_PERFORMANCE_GC_FLAGS_ALL_EXTERNAL_MEMORY, 'external memory'],
  [constants.NODE_PERFORMANCE_GC_FLAGS_ALL_AVAILABLE_GARBAGE, 'all available garbage'],
  [constants.NODE_PERFORMANCE_GC_FLAGS_SYNCHRONOUS_PHANTOM_PROCESSING, 'synchronous phantom processing'],
  [constants.NODE_PERFORMANCE_GC_FLAGS_SCHEDULE_IDLE, 'idle time'],
];

function gcReasons(flags: number | undefined): string[] {
  return GC_REASONS.filter(([flag]) => ((flags ?? 0) & flag) !== 0).map(([, name]) => name);
}

/** What perf_hooks says of a collection beyond its duration. */
function gcDetail(entry: PerformanceEntry): { kind?: number; flags?: number } | undefined {
  return (entry as PerformanceEntry & { detail?: { kind?: number; flags?: number } }).detail;
}

function gcKind(kind: number | undefined): string {
  if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) return 'major';
  if (kind === constants.NODE_PERFORMANCE_GC_MINOR) return 'minor';
  if (kind === constants.NODE_PERFORMANCE_GC_INCREMENTAL) return 'incremental';
  return 'weak callbacks';
}

if (dir) {
  const file = path.join(dir, `${process.pid}.jsonl`);
  let last = performance.now();
  let lastCpu = process.threadCpuUsage();
  let lastQueued = queuedNs();
  // V8 runs a full collection once ArrayBuffers' memory grew ~64 MB past what the last one left: the
  // highest figure sampled since then, and how long ago that was, say how fast it grew.
  let externalPeak = 0;
  let lastMajorAt = performance.now();
  let ticks = 0;
  new PerformanceObserver((list) => {
    const entries = list.getEntries();
    const long = entries.filter((entry) => entry.duration >= GC_FROM_MS);
    const firstMajor = entries.find((entry) => gcDetail(entry)?.kind === constants.NODE_PERFORMANCE_GC_MAJOR);
    const growth = { externalPeakMB: Math.round(externalPeak / 2 ** 20), sinceMajorS: Math.round((performance.now() - lastMajorAt) / 1000) };
    if (firstMajor) {
      externalPeak = 0;
      lastMajorAt = performance.now();
    }
    if (!long.length) return;
    const heap = heapAfter();
    // the growth belongs to the batch's first major collection; a second one in it found none
    const lines = long.map((entry) => {
      const detail = gcDetail(entry);
      const reasons = gcReasons(detail?.flags);
      const before = entry === firstMajor ? growth : {};
      return `${JSON.stringify({ gcAt: Math.round(performance.timeOrigin + entry.startTime), gcMs: Math.round(entry.duration), gcKind: gcKind(detail?.kind), ...(reasons.length ? { gcReasons: reasons } : {}), ...heap, ...before })}\n`;
    });
    appendFileSync(file, lines.join(''));
  }).observe({ entryTypes: ['gc'] });
  setInterval(() => {
    if (++ticks % 10 === 0) externalPeak = Math.max(externalPeak, getHeapStatistics().external_memory);
    const now = performance.now();
    const cpu = process.threadCpuUsage();
    const queued = queuedNs();
    const wallMs = now - last - TICK_MS;
    if (wallMs >= RECORD_FROM_MS) {
      const cpuMs = (cpu.user + cpu.system - lastCpu.user - lastCpu.system) / 1000;
      const queuedMs = (queued - lastQueued) / 1e6;
      const at = Date.now();
      appendFileSync(file, `${JSON.stringify({ from: Math.round(at - (now - last)), at, wallMs: Math.round(wallMs), cpuMs: Math.round(cpuMs), queuedMs: Math.round(queuedMs) })}\n`);
    }
    last = now;
    lastCpu = cpu;
    lastQueued = queued;
  }, TICK_MS).unref();
}

// `npm run bench:fleet -- --agents N [--instances 2] [--seconds S] [--restart] [--write]`: a fleet of
// simulated agents (bench/fleet-agents.ts, several processes) enrolled through the real API against
// real `pswm-server` process(es) on one real PostgreSQL, beside a bare `ws` server holding as many
// sockets (bench/fleet-baseline.ts), measured in the same run. Prints a markdown section ("Fleet")
// and, with --write, puts it into docs/BENCHMARKS.md.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type postgres from 'postgres';
import { parseAllDocuments } from 'yaml';
import { createToken } from '../server/src/auth/tokens.ts';
import { freshDatabase } from '../server/test/support/database.ts';
import { loggedEntries, sharedSecretKey, startServerProcess } from '../server/test/support/server-process.ts';
import { runGit, stageFiles } from '../server/test/support/git-http-server.ts';
import type { ServerProcess } from '../server/test/support/server-process.ts';
import { appliedRevision, repoOf, until } from '../server/test/reconcile-fixtures.ts';
import { generatePolicyRepo, mutatePolicyRepo } from './generate-policy.ts';
import { acceptQueues, cpuMsBetween, cpuMsOf, cpuMsOfAll, cpuSnapshot, describeBound, describeCollections, describeCpuBetween, describeStall, describeStalls, latencyBuckets, listenOverflows, machineCpuMs, p99Bound, percentile, pidsNamed, recordedIn, rssBytesOf, stallsIn, sum, summarize } from './fleet-stats.ts';
import { collect, freePort, startSim, takeStats, type SimPriority } from './fleet-sim.ts';
import { firstArrivals, startCapture, type Capture } from './fleet-capture.ts';
import { createCleanups } from './cleanups.ts';
import { collectGarbageIn, inspectFlag } from './inspector-gc.ts';
import { BASELINE_REASON, RECONNECT_MAX_MS, type SimStats } from './fleet-protocol.ts';

const { values } = parseArgs({
  options: {
    agents: { type: 'string', default: '1000' },
    instances: { type: 'string', default: '1' },
    seconds: { type: 'string', default: '60' },
    processes: { type: 'string' },
    'agents-per-location': { type: 'string', default: '75' },
    'poll-seconds': { type: 'string', default: '60' },
    'heartbeat-seconds': { type: 'string', default: '60' },
    'report-every': { type: 'string', default: '5' },
    restart: { type: 'boolean', default: false },
    /** Added to each server's NODE_OPTIONS, e.g. --server-node-options='--cpu-prof --cpu-prof-dir=/tmp/prof' to profile it under the fleet. */
    'server-node-options': { type: 'string', default: '' },
    /** Node flags for each simulator, e.g. --sim-node-options='--cpu-prof --cpu-prof-dir=/tmp/prof'. */
    'sim-node-options': { type: 'string', default: '' },
    write: { type: 'boolean', default: false },
    /** The simulators' scheduling priority: a nice value (0–19) or `idle` (SCHED_IDLE, see SimPriority).
     * The simulated agents stand for other machines; on one small machine they outnumber the servers'
     * processes and take the CPU share the servers would have (session 9's collapsed 30,000 herds:
     * servers at 15–35 % of a core each). */
    'sim-nice': { type: 'string', default: '0' },
  },
});
const AGENTS = Number(values.agents);
const INSTANCES = Number(values.instances);
const SECONDS = Number(values.seconds);
const SIM_PRIORITY: SimPriority = values['sim-nice'] === 'idle' ? 'idle' : Number(values['sim-nice']);
if (SIM_PRIORITY !== 'idle' && !(Number.isInteger(SIM_PRIORITY) && SIM_PRIORITY >= 0 && SIM_PRIORITY <= 19)) throw new Error(`--sim-nice takes 0 to 19 or idle, not ${values['sim-nice']}`);
// Each process holds one socket per agent plus its HTTP pool: stay well under the open-file limit.
const PROCESSES = Number(values.processes ?? Math.max(2, Math.ceil(AGENTS / 4000)));
const PER_LOCATION = Number(values['agents-per-location']);
const LOCATIONS = Math.max(1, Math.ceil(AGENTS / PER_LOCATION));
const SETTINGS = { pollSeconds: Number(values['poll-seconds']), heartbeatSeconds: Number(values['heartbeat-seconds']), reportEvery: Number(values['report-every']) };
const BASELINE = fileURLToPath(new URL('./fleet-baseline.ts', import.meta.url));
const LOOP_STALLS = fileURLToPath(new URL('./loop-stalls.ts', import.meta.url));
/** Above this share of the machine's CPU time taken by the hypervisor the run says it is not comparable. */
const STEAL_WARNING = 0.05;
const BENCHMARKS = fileURLToPath(new URL('../docs/BENCHMARKS.md', import.meta.url));
const SIGNAL_WAIT_MS = 30_000;
const FLEET_WIDE_REASON = 'bench fleet-wide';
/** How long the polls a fleet-wide signal started may take before the bench goes on regardless. */
const SIGNAL_POLLS_WAIT_MS = 120_000;
/** One-location commits measured, one after another. */
const COMMITS = 3;
/** Fleet-wide signals measured (as many as the bare servers' broadcasts); the median p99 is kept.
 * As many again are captured on the loopback interface for their arrival at the agents' sockets:
 * tcpdump takes CPU the simulators would have read with, so the read times come from rounds without. */
const SIGNAL_ROUNDS = 3;

interface CommitSample {
  affected: number;
  fetched: number;
  lastFetchMs: number;
  woken: number;
  reconcileMs?: number;
  reconciles: ReconcileLine[];
  /** Where the time went, from the commit: first and last wake-up received, first and last fetch. */
  timeline: string;
}
/** Quiet time between phases, so one phase's stragglers are not counted in the next. */
const SETTLE_MS = 5000;
const POLL_P99_GOAL_MS = 50;
/** The agents' backoff cap bounds how late one comes back after the server is listening again. */
const RECONNECT_WINDOW_MS = RECONNECT_MAX_MS;
const HERD_MAX_SECONDS = 180;
// Rate limits are for the internet, not for a simulator enrolling thousands of agents from one address.
const BENCH_SERVER_ENV: Record<string, string> = { PSWM_RATE_LIMIT: '0' };

const simScheduling = (priority: SimPriority) => (priority === 'idle' ? 'under SCHED_IDLE (chrt --idle)' : `at nice ${priority}`);
const progress = (line: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const cleanups = createCleanups(progress);
const { hooks } = cleanups;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

try {
  const loadBefore = os.loadavg()[0];
  const machineAtStart = await machineCpuMs();
  const db = await freshDatabase();
  const postgresSettings = await settingsOf(db.sql);
  cleanups.push(() => db.drop());
  const files = generatePolicyRepo({ organizations: Math.max(1, Math.ceil(LOCATIONS / 20)), locations: LOCATIONS, overrides: 0, scripts: 40, deployments: 10 });
  const repo = await repoOf(hooks, files);
  const locations = locationsOf(files);
  progress(`policy: ${locations.length} locations; starting ${INSTANCES} pswm-server instance(s)`);

  const servers: ServerProcess[] = [];
  const ports: number[] = [];
  const inspectPorts: number[] = [];
  const dataDirs: string[] = [];
  const stallDirs: string[] = [];
  for (let i = 0; i < INSTANCES; i++) {
    ports.push(await freePort());
    inspectPorts.push(await freePort());
    for (const [dirs, prefix] of [[dataDirs, 'pswm-bench-fleet-'], [stallDirs, 'pswm-bench-stalls-']] as const) {
      const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
      cleanups.push(() => rm(dir, { recursive: true, force: true }));
      dirs.push(dir);
    }
  }
  // Every instance on one database signs with the same secret key.
  const keyEnv = await sharedSecretKey(dataDirs[0]);
  const startInstance = (i: number) => startServerProcess({
    dataDir: dataDirs[i],
    args: ['--policy-repo', repo.dir, '--poll-interval', '3600', '--port', String(ports[i])],
    env: {
      DATABASE_URL: db.url, ...BENCH_SERVER_ENV, ...keyEnv, PSWM_BENCH_STALLS_DIR: stallDirs[i],
      NODE_OPTIONS: `${inspectFlag(inspectPorts[i])} --import=${LOOP_STALLS} ${values['server-node-options']}`.trim(),
    },
  });
  for (let i = 0; i < INSTANCES; i++) servers.push(await startInstance(i));
  cleanups.push(() => Promise.all(servers.map((s) => s.stop())));
  await until('the generated policy to be applied', () => appliedRevision(db.sql).then((r) => r ?? undefined), 300_000);
  const { token: admin } = await db.sql.begin((tx) => createToken(tx, { role: 'admin', name: 'bench-fleet', actor: 'bench' }));
  const adminCall = (i: number, method: string, route: string, body?: unknown) => fetch(`${servers[i].url}${route}`, {
    method, headers: { authorization: `Bearer ${admin}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined,
  });

  // One OTP code per location, as an admin rolling out a site would make.
  const plan = Array.from({ length: AGENTS }, (_, i) => ({ name: `sim-${String(i).padStart(6, '0')}`, location: locations[i % locations.length], origin: servers[i % INSTANCES].url }));
  const agentIndex = new Map(plan.map((a, i) => [a.name, i]));
  const codes = new Map<string, string>();
  for (const location of locations) {
    const uses = plan.filter((a) => a.location === location).length;
    const response = await adminCall(0, 'POST', '/api/v1/otp', { organization: location.organization, location: location.name, uses, expires_in: '1d' });
    if (response.status !== 201) throw new Error(`otp create: ${response.status} ${await response.text()}`);
    codes.set(location.id, ((await response.json()) as { code: string }).code);
  }

  const sims = await Promise.all(Array.from({ length: PROCESSES }, () => startSim(SIM_PRIORITY, values['sim-node-options'].split(' ').filter(Boolean))));
  if (SIM_PRIORITY) progress(`simulators run ${simScheduling(SIM_PRIORITY)}, every thread`);
  cleanups.push(() => Promise.all(sims.map((s) => s.stop())));
  const shares = sims.map((_, p) => plan.filter((_, i) => i % PROCESSES === p));

  // 1. The baseline: bare ws servers holding the same number of sockets, one per pswm instance (one
  // process could not hold them all within its open-file limit, no more than one pswm instance could).
  progress(`baseline: ${AGENTS} sockets on ${INSTANCES} bare ws server(s)`);
  const baselines = await Promise.all(Array.from({ length: INSTANCES }, () => startBaseline()));
  cleanups.push(() => Promise.all(baselines.map((b) => b.stop())));
  const captureDir = await mkdtemp(path.join(os.tmpdir(), 'pswm-fleet-capture-'));
  cleanups.push(() => rm(captureDir, { recursive: true, force: true }));
  let captureUnavailable: string | undefined;
  const baselineIdleRss = await Promise.all(baselines.map(rssAfterGc));
  await Promise.all(sims.map((sim, p) => sim.request({ type: 'baseline-connect', url: baselines[p % INSTANCES].url.replace('http', 'ws'), count: shares[p].length, concurrency: 200 }, 'connected')));
  await sleep(2000);
  const baselineRssPerSocket = (sum(await Promise.all(baselines.map(rssAfterGc))) - sum(baselineIdleRss)) / AGENTS;
  // Broadcasts on a quiet machine, before any agent enrols; the bare sockets then stay open, and each
  // fleet-wide signal below follows a bare broadcast under the same load (the ratio's basis): compared
  // with the quiet figure alone, session 13's pswm signal paid for the fleet's own polls and reports.
  const quietBroadcasts: Delivery[] = [];
  for (let round = 0; round < 2 * SIGNAL_ROUNDS; round++) quietBroadcasts.push(await bareBroadcast(`quiet machine ${round + 1}`, round >= SIGNAL_ROUNDS));

  // 2. pswm: enrol through the API, then open every agent's socket and start its loop.
  progress(`pswm: enrolling ${AGENTS} agents from ${PROCESSES} processes`);
  const enrolStarted = performance.now();
  const enrolled = await Promise.all(sims.map((sim, p) => sim.request({
    type: 'enrol', settings: SETTINGS, concurrency: 8,
    agents: shares[p].map((a) => ({ name: a.name, code: codes.get(a.location.id)!, origin: a.origin })),
  }, 'enrolled')));
  const enrolSeconds = (performance.now() - enrolStarted) / 1000;
  const enrolledCount = enrolled.reduce((n, e) => n + (e.type === 'enrolled' ? e.count : 0), 0);
  progress(`enrolled ${enrolledCount} in ${enrolSeconds.toFixed(0)} s; connecting sockets`);
  const rssBeforeSockets = await Promise.all(servers.map((s, i) => rssAfterGc({ pid: s.pid, inspectPort: inspectPorts[i] })));
  const connectStarted = performance.now();
  const connected = await Promise.all(sims.map((sim) => sim.request({ type: 'connect', concurrency: 100 }, 'connected')));
  const connectedCount = connected.reduce((n, e) => n + (e.type === 'connected' ? e.count : 0), 0);
  progress(`${connectedCount} sockets open in ${((performance.now() - connectStarted) / 1000).toFixed(0)} s; settling`);
  await sleep(5000);
  const rssWithSockets = await Promise.all(servers.map((s, i) => rssAfterGc({ pid: s.pid, inspectPort: inspectPorts[i] })));
  const rssPerAgent = (sum(rssWithSockets) - sum(rssBeforeSockets)) / connectedCount;
  // A forced full GC of a server holding 15,000 sockets stops it for about a second (seen in its CPU
  // profile); the polls it held up are the bench's doing, so they finish before the steady state.
  await sleep(SETTLE_MS);

  // 3. Steady state: polls, heartbeats and reports on their intervals.
  progress(`steady state for ${SECONDS} s`);
  // Handing over what the simulators recorded so far (30,000 enrolments and connects) is a burst on
  // every core that stalled both servers ~100 ms; the window opens once it is over.
  await takeStats(sims);
  await sleep(SETTLE_MS);
  await takeStats(sims);
  // One scrape each: it also resets prom-client's loop-lag histogram for the window.
  const serverPollsBefore = pollBucketsIn(await scrapeAll(servers));
  const windowOpened = Date.now();
  const cpuBefore = await Promise.all(servers.map((s) => cpuMsOf(s.pid)));
  // Where the machine's CPU goes: the simulators and PostgreSQL share it with the server(s).
  const postgresPids = await pidsNamed('postgres');
  const [simCpuBefore, postgresCpuBefore, machineBefore] = await Promise.all([cpuMsOfAll(sims.map((s) => s.pid)), cpuMsOfAll(postgresPids), machineCpuMs()]);
  const steadyStarted = performance.now();
  await sleep(SECONDS * 1000);
  const windowClosed = Date.now();
  const steadyStats = await takeStats(sims);
  const steadySeconds = (performance.now() - steadyStarted) / 1000;
  const metricsAtClose = await scrapeAll(servers);
  const loopLag = metricsAtClose.map(loopLagIn);
  const serverPollsAfter = pollBucketsIn(metricsAtClose);
  const serverPollP99 = serverPollsBefore && serverPollsAfter ? describeBound(p99Bound(serverPollsBefore, serverPollsAfter)) : 'not read';
  const stalls = await Promise.all(stallDirs.map((dir) => stallsIn(dir, windowOpened, windowClosed)));
  stalls.forEach((list, i) => progress(`instance ${i} stalls over 50 ms: ${list.filter((s) => s.wallMs > 50).map((s) => `${describeStall(s)} at +${((s.at - windowOpened) / 1000).toFixed(1)} s`).join(', ') || 'none'}`));
  const serverCpuMs = await Promise.all(servers.map((s, i) => cpuMsOf(s.pid).then((ms) => ms - cpuBefore[i])));
  const cpuPercent = serverCpuMs.map((ms) => (ms / (steadySeconds * 1000)) * 100);
  const [simCpuAfter, postgresCpuAfter, machineAfter] = await Promise.all([cpuMsOfAll(sims.map((s) => s.pid)), cpuMsOfAll(postgresPids), machineCpuMs()]);
  const ofOneCore = (ms: number) => `${((ms / (steadySeconds * 1000)) * 100).toFixed(0)} %`;
  const cpuSplit = `servers ${ofOneCore(sum(serverCpuMs))}, simulators ${ofOneCore(cpuMsBetween(simCpuBefore, simCpuAfter))}, PostgreSQL ${ofOneCore(cpuMsBetween(postgresCpuBefore, postgresCpuAfter))}, whole machine ${ofOneCore(machineAfter.busy - machineBefore.busy)} of ${os.cpus().length * 100} %, and ${ofOneCore(machineAfter.steal - machineBefore.steal)} taken by the hypervisor (steal)`;
  const stealShare = (machineAfter.steal - machineBefore.steal) / (steadySeconds * 1000 * os.cpus().length);
  if (stealShare > STEAL_WARNING) progress(`WARNING: the hypervisor took ${(stealShare * 100).toFixed(0)} % of the machine's CPU time during the steady state (steal): this run measured a slower machine than it says`);
  const loadDuring = os.loadavg()[0];

  // 4. Fleet-wide signals (sent to instance 0: with two instances it crosses the bus), three of them
  //    as for the bare servers, the one with the median p99 kept: one sample swung by a third
  //    between runs of the same code.
  const signalRounds: Delivery[] = [];
  const loadedBroadcasts: Delivery[] = [];
  for (let round = 0; round < 2 * SIGNAL_ROUNDS; round++) {
    loadedBroadcasts.push(await bareBroadcast(`under the fleet's load ${round + 1}`, round >= SIGNAL_ROUNDS));
    signalRounds.push(await fleetWideSignal(round, round >= SIGNAL_ROUNDS));
  }
  await Promise.all(sims.map((sim) => sim.request({ type: 'baseline-close' }, 'closed')));
  await Promise.all(baselines.map((b) => b.stop()));
  const fleetDelivery = medianReadOf(signalRounds);
  const baselineBroadcast = medianReadOf(loadedBroadcasts);

  // 5. One-location commits, one after another (one sample is at the mercy of whatever PostgreSQL
  //    was doing that second): only that location's agents are woken; they fetch the new document.
  const commits: CommitSample[] = [];
  let policyFiles = files;
  for (let round = 0; round < COMMITS; round++) commits.push(await oneLocationCommit());
  const commitMs = commits.map((c) => c.lastFetchMs);

  // 6. Optional: every instance restarted at once; the fleet comes back with its own backoff.
  const pollP99 = percentile(steadyStats.latencies['desired-state 304'] ?? [], 0.99);
  let herd: string[] = [];
  if (values.restart) herd = await thunderingHerd();
  const machineAtEnd = await machineCpuMs();
  const stolenMs = machineAtEnd.steal - machineAtStart.steal;
  const stealOverRun = `${((stolenMs / (machineAtEnd.busy - machineAtStart.busy + stolenMs || 1)) * 100).toFixed(0)} %`;

  const lines = [
    `## Fleet (${AGENTS.toLocaleString('en-US')} agents, ${INSTANCES} instance${INSTANCES > 1 ? 's' : ''})`,
    '',
    `Command: \`npm run bench:fleet -- ${process.argv.slice(2).join(' ')}\` (${PROCESSES} simulator processes, ${locations.length} locations of ~${PER_LOCATION} agents, polls every ${SETTINGS.pollSeconds} s and heartbeats every ${SETTINGS.heartbeatSeconds} s with ±10 % jitter, a report every ${SETTINGS.reportEvery} iterations carrying the facts, two script runs, ten drift items and, when it changed (the first report, then one in 20), a 40-package Chocolatey inventory).`,
    `Machine: ${os.cpus()[0]?.model.trim()}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}, PostgreSQL on 127.0.0.1 (${postgresSettings}); load average ${loadBefore.toFixed(2)} before, ${loadDuring.toFixed(2)} during the steady state; steal over the whole run ${stealOverRun} of the CPU time this machine wanted (the hypervisor running other guests). Simulators, server(s) and PostgreSQL share the machine${SIM_PRIORITY ? `; the simulators run ${simScheduling(SIM_PRIORITY)}` : ''}.`,
    '',
    `Enrolment: ${enrolledCount.toLocaleString('en-US')} of ${AGENTS.toLocaleString('en-US')} agents in ${enrolSeconds.toFixed(0)} s (OTP, own Ed25519 key each); ${connectedCount.toLocaleString('en-US')} sockets connected.`,
    '',
    '| measure | pswm | bare `ws` | ratio | goal |',
    '|---|---|---|---|---|',
    `| server RSS per connected agent (each read after a full GC) | ${(rssPerAgent / 1024).toFixed(1)} KB | ${(baselineRssPerSocket / 1024).toFixed(1)} KB | ${(rssPerAgent / baselineRssPerSocket).toFixed(2)} × | ≤ 1.2 × bare |`,
    `| fleet-wide signal read by the simulated agents, p50 / p99 / max over all sockets (of ${SIGNAL_ROUNDS}, the median p99; bare: a broadcast just before each signal, under the same load) | ${triple(fleetDelivery)} (${fleetDelivery.length} of ${connectedCount}) | ${triple(baselineBroadcast)} (quiet machine: ${triple(medianReadOf(quietBroadcasts))}) | ${(Math.max(...fleetDelivery) / Math.max(...baselineBroadcast)).toFixed(2)} × (max) | ≤ 1.3 × bare, p99 ≤ 500 ms |`,
    `| fleet-wide signal arrived at the agents' sockets, p50 / p99 / max (${SIGNAL_ROUNDS} more of each, captured on the loopback interface as the server's write hands each frame over, the agent's socket having it in the same call, before any simulator read it; the median p99) | ${describeArrivals(signalRounds, connectedCount, captureUnavailable)} | ${describeArrivals(loadedBroadcasts, AGENTS, captureUnavailable)} (quiet machine: ${describeArrivals(quietBroadcasts, AGENTS, captureUnavailable)}) | ${arrivalRatio(signalRounds, loadedBroadcasts)} | p99 ≤ 500 ms |`,
    `| poll p99 (304), as the agents timed it (as the servers timed it, a bucket of their histogram; the simulators' own event-loop delay p99 / max) | ${pollP99.toFixed(1)} ms (servers: ${serverPollP99}; simulators' delay ${describeLoopDelay(steadyStats)}) | — | — | ≤ 50 ms |`,
    `| event-loop lag over the steady state, p99 / max | ${loopLag.map((l) => `${l.p99Ms.toFixed(0)} / ${l.maxMs.toFixed(0)} ms`).join('; ')} | — | — | ≤ 50 ms |`,
    `| event-loop stalls ≥ 20 ms over the steady state, and how much of each the server's main thread ran (bench/loop-stalls.ts) | ${stalls.map((list) => describeStalls(list, 50)).join('; ')} | — | — | ≤ 50 ms |`,
    `| one-location commit → last affected agent fetched, median of ${COMMITS} (each) | ${percentile(commitMs, 0.5)} ms (${commits.map((c) => `${c.lastFetchMs} ms: ${c.fetched} of ${c.affected} fetched, ${c.woken} woken, reconcile ${c.reconcileMs ?? '?'} ms`).join('; ')}) | — | — | ≤ 500 ms, only that location woken |`,
    `| server CPU over the steady state | ${cpuPercent.map((c) => `${c.toFixed(0)} %`).join('; ')} of one core | — | — | |`,
    `| machine CPU over the steady state (100 % = one core) | ${cpuSplit} | — | — | |`,
    '',
    ...commits.map((c, i) => `Reconciles after one-location commit ${i + 1} (${c.timeline}): ${c.reconciles.map(describeReconcile).join('; ') || 'none logged'}.`).flatMap((line) => [line, '']).slice(0, -1),
    '',
    'Requests over the steady state:',
    '',
    ...summarize(steadyStats, steadySeconds),
    ...(herd.length ? ['', ...herd] : []),
  ];
  const section = lines.join('\n');
  process.stdout.write(`${section}\n`);
  if (values.write) await writeSection(section);

  /** One broadcast of the bare servers: each socket's delivery time. The simulators answer it with a
   * poll, as they answer a signal; it waits for those polls, then settles, as a signal round does. */
  async function bareBroadcast(label: string, captured: boolean): Promise<Delivery> {
    await takeStats(sims);
    const capture = captured ? await beginCapture(baselines.map((b) => portOf(b.url))) : undefined;
    const sentAt = Date.now();
    await Promise.all(baselines.map((b) => fetch(`${b.url}/broadcast`, { method: 'POST' })));
    const received = await collect(sims, (s) => s.baselineMessages.length >= AGENTS, SIGNAL_WAIT_MS);
    const delivery = received.baselineMessages.map((at) => at - sentAt);
    const arrived = await arrivalsIn(capture, BASELINE_REASON, sentAt, delivery.length);
    const answeredAlready = baselinePollsAnswered(received);
    await collect(sims, (s) => answeredAlready + baselinePollsAnswered(s) >= delivery.length, SIGNAL_POLLS_WAIT_MS);
    progress(`bare broadcast (${label}): ${delivery.length} received, p99 ${percentile(delivery, 0.99)} ms, last after ${Math.max(...delivery)} ms${describeArrived(arrived)}; its polls answered; settling`);
    await sleep(SETTLE_MS);
    await takeStats(sims);
    return { read: delivery, arrived };
  }

  /** One fleet-wide signal: each agent's delivery time. Every woken agent polls, and an agent reports
   * after the iteration a signal starts: at 30,000 that is 30,000 polls and thousands of reports, which
   * outlast a fixed pause, and what comes next measured while they are served measures them (a commit
   * took 4.8 s against ~250 ms once they were done). So this waits for the polls, then until reports
   * are back to their steady rate, then settles. */
  async function fleetWideSignal(round: number, captured: boolean): Promise<Delivery> {
    const reason = `${FLEET_WIDE_REASON} ${round + 1}`;
    progress(`fleet-wide signal ${round + 1} of ${2 * SIGNAL_ROUNDS}${captured ? ', captured' : ''}`);
    const capture = captured ? await beginCapture(servers.map((server) => portOf(server.url))) : undefined;
    const sentAt = Date.now();
    const response = await adminCall(0, 'POST', '/api/v1/signal', { all: true, reason });
    const answeredMs = Date.now() - sentAt;
    if (response.status !== 200) throw new Error(`signal: ${response.status} ${await response.text()}\n${serverErrors(servers[0])}`);
    const stats = await collect(sims, (s) => s.signals.filter((x) => x.reason === reason).length >= connectedCount, SIGNAL_WAIT_MS);
    const signals = stats.signals.filter((x) => x.reason === reason);
    const delivery = signals.map((x) => x.at - sentAt);
    const arrived = await arrivalsIn(capture, reason, sentAt, delivery.length);
    // Per instance: the one asked (0) delivers after its own NOTIFY's answer, the others when it reaches them.
    const perInstance = INSTANCES > 1 ? `; by instance (first / last): ${servers.map((_, i) => {
      const mine = signals.filter((x) => plan[agentIndex.get(x.agent)!].origin === servers[i].url).map((x) => x.at - sentAt);
      return mine.length ? `${Math.min(...mine)} / ${Math.max(...mine)} ms` : 'none';
    }).join(', ')}` : '';
    const route = loggedEntries<{ authorizedMs: number; publishedMs: number }>(servers[0], 'agents signalled').at(-1);
    // Each instance logs its send loop of a wake-up large enough to be spread: when it started (the
    // log line's time less the loop) says how long the bus took to reach it.
    const loops = servers.map((server, i) => {
      const loop = loggedEntries<{ time: number; reason: string; sendMs: number }>(server, 'agents woken').filter((entry) => entry.reason === reason).at(-1);
      return loop ? `instance ${i} from +${loop.time - loop.sendMs - sentAt} ms for ${loop.sendMs} ms` : `instance ${i} not logged`;
    });
    const onServer = `${route ? `; on instance 0, token checked after ${route.authorizedMs} ms and published after ${route.publishedMs} ms` : ''}; send loops: ${loops.join(', ')}`;
    progress(`fleet-wide signal ${round + 1}: answered after ${answeredMs} ms, first delivery after ${Math.min(...delivery)} ms, p99 ${percentile(delivery, 0.99)} ms, last after ${Math.max(...delivery)} ms${describeArrived(arrived)}${perInstance}${onServer}`);
    // The polls this signal started, not any polls: counting the fleet's timed polls too, the bench
    // went on while the signal's own were still queued (answered up to 58 s after their wake-up) and
    // measured the commits under them.
    const answered = (s: SimStats) => (s.wakePolls ?? []).filter((p) => p.reason === reason).length;
    const answeredAlready = answered(stats);
    const polled = await collect(sims, (s) => answeredAlready + answered(s) >= delivery.length, SIGNAL_POLLS_WAIT_MS);
    const slowestPoll = Math.max(0, ...[...(stats.wakePolls ?? []), ...(polled.wakePolls ?? [])].filter((p) => p.reason === reason).map((p) => p.ms));
    const settledAfterMs = await untilReportsSettle((steadyStats.latencies.report?.length ?? 0) / steadySeconds);
    progress(`the signal's polls answered (the last ${slowestPoll} ms after its wake-up) and reports done (at their steady rate ${(settledAfterMs / 1000).toFixed(0)} s after the polls); settling`);
    await sleep(SETTLE_MS);
    await takeStats(sims);
    return { read: delivery, arrived };
  }

  /** A capture of the text frames `ports` send, or none where capturing is not possible (said once). */
  async function beginCapture(ports: number[]): Promise<Capture | undefined> {
    if (captureUnavailable) return undefined;
    try {
      return await startCapture(ports, path.join(captureDir, 'broadcast.pcap'));
    } catch (error) {
      captureUnavailable = (error as Error).message;
      progress(`arrival at the agents' sockets not measured: ${captureUnavailable}`);
      return undefined;
    }
  }

  /** Each socket's arrival of the message whose JSON holds `reason`, from the capture, once drained. */
  async function arrivalsIn(capture: Capture | undefined, reason: string, sentAt: number, read: number): Promise<number[] | undefined> {
    if (!capture) return undefined;
    const marker = JSON.stringify(reason);
    const stopped = await capture.stop((written) => firstArrivals(written, marker, sentAt).length >= read).catch((error: Error) => {
      captureUnavailable = error.message;
      progress(`arrival at the agents' sockets not measured from here on: ${captureUnavailable}`);
      return undefined;
    });
    if (!stopped) return undefined;
    const { file, dropped } = stopped;
    const arrived = firstArrivals(file, marker, sentAt);
    if (dropped || arrived.length < read) progress(`the capture holds ${arrived.length} arrivals of the ${read} messages read (${dropped} packets dropped by the kernel)`);
    return arrived;
  }

  /** Samples (every 100 ms, until stop()) what PostgreSQL does besides the servers' queries: its
   * autovacuum workers in the bench's database, and whether a checkpoint is being written (after one
   * starts, the first write to each page logs the whole page); and the WAL written meanwhile. The
   * first commit after the fleet-wide signals' bursts of reports was the slowest of each 30,000 run. */
  function watchPostgres(): { stop(): Promise<string> } {
    const vacuums = new Set<string>();
    let samples = 0;
    let checkpointing = 0;
    let stopped = false;
    // read now (a postgres.js query runs only once awaited)
    const walAtStart = (async () => (await db.sql<{ lsn: string }[]>`select pg_current_wal_lsn()::text as lsn`)[0].lsn)();
    const sampling = (async () => {
      while (!stopped) {
        const rows = await db.sql<{ backend_type: string; query: string; wait_event: string | null }[]>`
          select backend_type, query, wait_event from pg_stat_activity
          where (backend_type = 'autovacuum worker' and datname = current_database()) or backend_type = 'checkpointer'`;
        samples++;
        for (const row of rows) {
          if (row.backend_type === 'autovacuum worker') vacuums.add(row.query.replace(/^autovacuum: /, ''));
          // idle, it waits in CheckpointerMain; anything else is a checkpoint being written
          else if (row.wait_event !== 'CheckpointerMain') checkpointing++;
        }
        await sleep(100);
      }
    })().catch((error: Error) => void vacuums.add(`(not sampled: ${error.message})`));
    return {
      async stop() {
        stopped = true;
        await sampling;
        const [{ bytes }] = await db.sql<{ bytes: string }[]>`select pg_wal_lsn_diff(pg_current_wal_lsn(), ${await walAtStart}::pg_lsn)::text as bytes`;
        return `autovacuum ${[...vacuums].join(', ') || 'none'}, a checkpoint being written in ${checkpointing} of ${samples} samples, ${(Number(bytes) / 2 ** 20).toFixed(1)} MB of WAL`;
      },
    };
  }

  /** Waits (at most SIGNAL_WAIT_MS) for two seconds in a row with reports at no more than twice
   * their steady rate; returns how long that took. */
  async function untilReportsSettle(steadyPerSecond: number): Promise<number> {
    const started = performance.now();
    let quietSeconds = 0;
    await takeStats(sims);
    while (quietSeconds < 2 && performance.now() - started < SIGNAL_WAIT_MS) {
      await sleep(1000);
      const reports = (await takeStats(sims)).latencies.report?.length ?? 0;
      quietSeconds = reports <= 2 * steadyPerSecond + 5 ? quietSeconds + 1 : 0;
    }
    return performance.now() - started;
  }

  /** CPU used so far by each server, the simulators, PostgreSQL, the bench and the machine. */
  function snapshot() {
    return cpuSnapshot(servers.map((s) => s.pid), sims.map((s) => s.pid));
  }

  /** Commits a change to one location's settings and measures until its agents fetched it. */
  async function oneLocationCommit(): Promise<CommitSample> {
    const mutated = mutatePolicyRepo(policyFiles, 'one-location-setting');
    const changed = mutated.filter((f, i) => f.text !== policyFiles[i]?.text);
    policyFiles = mutated;
    const location = locationsOf(changed)[0];
    const affected = plan.filter((a) => a.location.id === location.id).length;
    progress(`one-location commit (${location.id}, ${affected} agents)`);
    // The commit is the `git commit` that moves the branch; writing and staging the files (a `git
    // add` over ~800 files, 50–100 ms on a loaded machine) is the admin's work before it.
    await stageFiles(repo.dir, Object.fromEntries(changed.map((f) => [f.path, f.text ?? ''])));
    const cpuAtCommit = await snapshot();
    const commitAt = Date.now();
    const postgresWork = watchPostgres();
    await runGit(['commit', '--quiet', '-m', `bench: ${location.id} interval`], repo.dir);
    const commitStats = await collect(sims, (s) => s.documentChanges.length >= affected, SIGNAL_WAIT_MS);
    const cpuWhile = describeCpuBetween(cpuAtCommit, await snapshot(), Date.now() - commitAt);
    const postgresDid = await postgresWork.stop();
    await sleep(2000);
    const late = await takeStats(sims);
    const fetched = [...commitStats.documentChanges, ...late.documentChanges].map((d) => d.at - commitAt);
    const wokenAt = [...commitStats.signals, ...late.signals].map((s) => s.at - commitAt);
    const reconciles = reconcilesSince(servers, commitAt);
    // A first commit slower in every stage (session 14) could be a collection or a wait for a core.
    const lastFetchAt = commitAt + Math.max(0, ...fetched);
    const onServers = await Promise.all(stallDirs.map(async (dir, i) => {
      const { stalls, collections } = await recordedIn(dir, commitAt, lastFetchAt);
      return `instance ${i}: stalls ${describeStalls(stalls, 50)}, ${describeCollections(collections)}`;
    }));
    const span = (label: string, values: number[]) => `${label} ${values.length ? `${Math.min(...values)}–${Math.max(...values)} ms` : 'never'}`;
    const sample = {
      affected, fetched: fetched.length, lastFetchMs: fetched.length ? Math.max(...fetched) : Number.NaN,
      woken: new Set([...commitStats.signals, ...late.signals].map((s) => s.agent)).size,
      reconcileMs: reconciles.find((r) => r.status === 'applied')?.durationMs, reconciles,
      timeline: `${span('woken', wokenAt)}, ${span('fetched', fetched)} after the commit; the woken agents' polls: ${describeWakePolls([...(commitStats.wakePolls ?? []), ...(late.wakePolls ?? [])].filter((p) => !p.reason.startsWith(FLEET_WIDE_REASON)))}; PostgreSQL meanwhile: ${postgresDid}; CPU until the last fetch (servers; simulators; PostgreSQL; the bench; machine) ${cpuWhile}; ${onServers.join('; ')}`,
    };
    progress(`one-location commit: last of ${sample.fetched} fetches after ${sample.lastFetchMs} ms (reconcile ${sample.reconcileMs ?? '?'} ms; ${sample.timeline}; ${reconciles.map((r) => `instance ${r.instance} ${r.status} at +${r.endedMs} ms`).join(', ')})`);
    return sample;
  }

  /**
   * Stops every instance, starts it again on its port and measures the fleet coming back (issue goal:
   * all agents connected again within their reconnect window, no error storm, poll p99 back to normal
   * within 60 s). Sockets are counted every second; requests, reconnects and errors per 10-s window,
   * for at least 60 s and until every socket is back (at most 180 s).
   */
  async function thunderingHerd(): Promise<string[]> {
    progress('restart: every instance stopped and started again');
    // A short run may have no 304 in its steady state: the goal alone then.
    const normalP99 = Number.isFinite(pollP99) ? Math.max(1.2 * pollP99, POLL_P99_GOAL_MS) : POLL_P99_GOAL_MS;
    await takeStats(sims);
    const stoppedAt = performance.now();
    // Each instance's graceful stop and its start timed on its own: session 10's 30,000 runs counted
    // 15–39 s down without saying which. They start side by side, as a supervisor restarting every
    // instance would, not each waiting for the one before to listen.
    const downs = await Promise.all(servers.map(async (server, i) => {
      await server.stop();
      const stopMs = performance.now() - stoppedAt;
      const steps = loggedEntries<{ stepsMs: Record<string, number> }>(server, 'shutdown steps').at(-1)?.stepsMs ?? {};
      servers[i] = await startInstance(i);
      return { stopMs, steps, startMs: performance.now() - stoppedAt - stopMs };
    }));
    const restartedAt = performance.now();
    // Failures while nothing listened are the agents' backoff at work, not the server's doing.
    const down = await takeStats(sims);
    const whileDown = Object.values(down.errors).reduce((a, b) => a + b, 0);
    let skipped = down.skipped ?? 0;
    let allBackMs: number | undefined;
    const windows: string[] = [];
    const errorsByKind: Record<string, number> = {};
    /** The end of the last window whose poll p99 was not normal, in real seconds after the restart. */
    let lastAbnormalSecond = 0;
    let stuck: string[] = [];
    /** The longest accept queue seen (sampled each second) in the window, per instance. */
    let acceptQueueMax = servers.map(() => 0);
    let cpuAtWindowStart = await snapshot();
    // counted since each instance started again
    let serverPollsAtWindowStart = new Map<number, number>();
    let lastAbnormalServerSecond = 0;
    let overflowsAtWindowStart = await listenOverflows();
    // Windows are timed by the clock, not by the loop's count: simulators starved of CPU answer the
    // per-second count late, and a "10-s" window of session 13 was 17 s long (its CPU read 591 %).
    // A window closes at the first count 10 s or more after it opened.
    let windowStartedMs = performance.now();
    for (let second = 1; performance.now() - restartedAt < HERD_MAX_SECONDS * 1000; second++) {
      await sleep(Math.max(0, restartedAt + second * 1000 - performance.now()));
      const [counts, queues] = await Promise.all([Promise.all(sims.map((sim) => sim.request({ type: 'count-connected' }, 'connected'))), acceptQueues(servers.map((s) => portOf(s.url)))]);
      queues.forEach((queued, i) => (acceptQueueMax[i] = Math.max(acceptQueueMax[i], queued)));
      const back = counts.reduce((n, e) => n + (e.type === 'connected' ? e.count : 0), 0);
      stuck = counts.flatMap((e) => (e.type === 'connected' ? e.stuck ?? [] : []));
      if (back >= connectedCount && allBackMs === undefined) allBackMs = performance.now() - restartedAt;
      if (performance.now() - windowStartedMs < 10_000) continue;
      const window = await takeStats(sims);
      skipped += window.skipped ?? 0;
      const errors = Object.entries(window.errors);
      for (const [kind, n] of errors) errorsByKind[kind] = (errorsByKind[kind] ?? 0) + n;
      const p99 = percentile(window.latencies['desired-state 304'] ?? [], 0.99);
      const serverPolls = pollBucketsIn(await scrapeAll(servers));
      const serverP99 = serverPolls ? p99Bound(serverPollsAtWindowStart, serverPolls) : undefined;
      if (serverPolls) serverPollsAtWindowStart = serverPolls;
      const windowEndedMs = performance.now();
      const windowEnd = (windowEndedMs - restartedAt) / 1000;
      if (!(p99 <= normalP99)) lastAbnormalSecond = windowEnd;
      if (!serverP99 || serverP99.boundMs > normalP99) lastAbnormalServerSecond = windowEnd;
      const errorText = errors.length ? errors.map(([kind, n]) => `${kind}: ${n}`).join(', ') : '0';
      const [cpuNow, overflowsNow] = await Promise.all([snapshot(), listenOverflows()]);
      const cpuText = describeCpuBetween(cpuAtWindowStart, cpuNow, windowEndedMs - windowStartedMs);
      // stalls are recorded in wall-clock ms
      const worstStalls = (await Promise.all(stallDirs.map((dir) => stallsIn(dir, performance.timeOrigin + windowStartedMs, performance.timeOrigin + windowEndedMs))))
        .map((list) => (list.length ? list.reduce((a, b) => (b.wallMs > a.wallMs ? b : a)) : undefined))
        .map((stall) => (stall ? `${stall.wallMs} (${stall.cpuMs})` : '—')).join(' + ');
      const upgrades = window.connects.map((c) => c.ms);
      const upgradeText = upgrades.length ? `${percentile(upgrades, 0.5).toFixed(0)} / ${percentile(upgrades, 0.99).toFixed(0)} ms` : '—';
      windows.push(`| ${((windowStartedMs - restartedAt) / 1000).toFixed(0)}–${windowEnd.toFixed(0)} s | ${back.toLocaleString('en-US')} | ${window.connects.length.toLocaleString('en-US')} | ${upgradeText} | ${acceptQueueMax.join(' + ')}; ${(overflowsNow - overflowsAtWindowStart).toLocaleString('en-US')} | ${cpuText} | ${worstStalls} | ${p99.toFixed(1)} ms (${window.latencies['desired-state 304']?.length ?? 0}) | ${serverP99 ? describeBound(serverP99) : 'not read'} | ${describeLoopDelay(window)} | ${percentile(window.latencies.heartbeat ?? [], 0.99).toFixed(1)} ms | ${errorText} |`);
      cpuAtWindowStart = cpuNow;
      windowStartedMs = windowEndedMs;
      overflowsAtWindowStart = overflowsNow;
      acceptQueueMax = servers.map(() => 0);
      if (windowEnd >= 60 && allBackMs !== undefined && lastAbnormalSecond < windowEnd) break;
    }
    const totalErrors = Object.values(errorsByKind).reduce((a, b) => a + b, 0);
    const lateRefusals = Object.entries(errorsByKind).filter(([kind]) => kind.endsWith('ECONNREFUSED')).reduce((n, [, count]) => n + count, 0);
    // counted since each instance started again: the whole herd
    const abandoned = (await scrapeAll(servers)).map((text) => metricValues(text, ['pswm_websocket_upgrades_abandoned_total'])[0]);
    const backWithin = allBackMs !== undefined && allBackMs <= RECONNECT_WINDOW_MS;
    return [
      `Restart (thundering herd): every instance stopped and started again (down ${((restartedAt - stoppedAt) / 1000).toFixed(1)} s, counted from the stop to the last instance listening again; ${downs.map((d) => `stop ${(d.stopMs / 1000).toFixed(1)} s (${describeSteps(d.steps)}) + start ${(d.startMs / 1000).toFixed(1)} s`).join(', ')}); the agents reconnect with their own full-jitter backoff (1 s doubling to ${RECONNECT_WINDOW_MS / 1000} s, their reconnect window), and as the agent does, every call of one agent waits for the one backoff it shares with the others: no poll or heartbeat goes out while a probe is failing.`,
      '',
      `- Every socket back: ${allBackMs === undefined ? `**no**, not within ${HERD_MAX_SECONDS} s; of those not back: ${stuck.join('; ')}` : `${(allBackMs / 1000).toFixed(0)} s after the restart`} (goal: within the ${RECONNECT_WINDOW_MS / 1000}-s reconnect window: ${backWithin ? 'met' : 'missed'}).`,
      `- Errors once the server listened again: ${totalErrors.toLocaleString('en-US')} (${(totalErrors / connectedCount).toFixed(2)} per agent)${totalErrors ? `: ${Object.entries(errorsByKind).map(([kind, n]) => `${kind} ${n}`).join(', ')}` : ''}${lateRefusals ? ` (the ${lateRefusals.toLocaleString('en-US')} ECONNREFUSED among them are refusals from before the instances listened, which the busy simulators handled late: a listening port does not refuse, a full accept queue drops the connection attempt instead)` : ''}; while it was down: ${whileDown.toLocaleString('en-US')} refused attempts; ${skipped.toLocaleString('en-US')} calls skipped by the agents' backoff over the whole restart.`,
      `- Upgrades the servers dropped because the agent had closed its connection before they got to it (it waited in the accept queue past the 30-s handshake timeout): ${abandoned.map((n) => n.toLocaleString('en-US')).join(' + ')}.`,
      `- Poll p99 back to normal (≤ ${normalP99.toFixed(1)} ms: 1.2 × this run's steady-state ${pollP99.toFixed(1)} ms, or the ${POLL_P99_GOAL_MS} ms goal if higher) ${lastAbnormalSecond === 0 ? 'in every window' : `from the ${lastAbnormalSecond.toFixed(0)}-s mark on`} (goal: within 60 s: ${lastAbnormalSecond < 60 ? 'met' : 'missed'}); as the servers timed their answers (their histogram's buckets), ${lastAbnormalServerSecond === 0 ? 'in every window' : `from the ${lastAbnormalServerSecond.toFixed(0)}-s mark on`}. The agents' figure includes the time a simulator, short of CPU, took to read the answer: its own event-loop delay is in the table.`,
      '',
      '| after restart | sockets connected at the end | reconnects | upgrade p50 / p99 | accept queue, longest (each); connections the kernel dropped with it full | CPU, % of one core: servers (each); simulators; PostgreSQL; bench; machine | worst stall ms (on CPU), each | poll p99 (304), as the agents timed it (samples) | as the servers timed it | simulators\' event-loop delay p99 / max | heartbeat p99 | errors |',
      '|---|---|---|---|---|---|---|---|---|---|---|---|',
      ...windows,
    ];
  }
} finally {
  await cleanups.runAll();
}

/** The PostgreSQL settings that decide what its share of the machine means (this machine's shared
 * CI cluster runs without autovacuum, a production one with it). */
async function settingsOf(sql: postgres.Sql): Promise<string> {
  const rows = await sql<{ name: string; value: string }[]>`
    select name, current_setting(name) as value from pg_settings
    where name in ('server_version', 'autovacuum', 'fsync', 'synchronous_commit', 'shared_buffers', 'max_wal_size') order by name`;
  return rows.map(({ name, value }) => `${name} ${value}`).join(', ');
}

/** One fleet-wide message: when each simulated agent read it and, in a captured round, when it
 * arrived at each agent's socket, in ms after the request. */
interface Delivery {
  read: number[];
  arrived?: number[];
}

/** The read times of the median round (by p99) among those not captured. */
function medianReadOf(rounds: Delivery[]): number[] {
  return medianByP99(rounds.filter((d) => !d.arrived).map((d) => d.read));
}

function describeArrived(arrived: number[] | undefined): string {
  return arrived?.length ? `; arrived at the sockets: p99 ${percentile(arrived, 0.99)} ms, last after ${Math.max(...arrived)} ms` : '';
}

/** The arrival times of the median round (by p99) among the captured ones; none if none was. */
function medianArrivalOf(rounds: Delivery[]): number[] | undefined {
  const captured = rounds.flatMap((d) => (d.arrived ? [d.arrived] : []));
  return captured.length ? medianByP99(captured) : undefined;
}

function describeArrivals(rounds: Delivery[], sockets: number, unavailable: string | undefined): string {
  const median = medianArrivalOf(rounds);
  if (!median) return `not measured${unavailable ? ` (${unavailable})` : ''}`;
  return `${triple(median)} (${median.length} of ${sockets})`;
}

function arrivalRatio(signals: Delivery[], broadcasts: Delivery[]): string {
  const [pswm, bare] = [medianArrivalOf(signals), medianArrivalOf(broadcasts)];
  if (!pswm || !bare) return '—';
  return `${(Math.max(...pswm) / Math.max(...bare)).toFixed(2)} × (max)`;
}

function portOf(url: string): number {
  return Number(new URL(url).port);
}

/** Of several rounds' delivery times, the round with the median p99. */
function medianByP99(rounds: number[][]): number[] {
  return [...rounds].sort((a, b) => percentile(a, 0.99) - percentile(b, 0.99))[Math.floor(rounds.length / 2)];
}

/** The polls the simulators sent in answer to a bare broadcast, answered or failed (call() keys a 304
 * `baseline-poll 304`, a failure `baseline-poll <code>` among the errors). */
function baselinePollsAnswered(stats: SimStats): number {
  const failed = Object.entries(stats.errors).filter(([key]) => /^baseline-poll [^\d]/.test(key)).reduce((n, [, count]) => n + count, 0);
  return (stats.latencies['baseline-poll 304']?.length ?? 0) + (stats.latencies['baseline-poll']?.length ?? 0) + failed;
}

/** "200 × 70 (answered 12–340 ms after the wake), 304 × 5 (…)": how the polls that answered a wake-up went. */
function describeWakePolls(polls: { outcome: string; ms: number }[]): string {
  if (!polls.length) return 'none answered';
  const byOutcome = new Map<string, number[]>();
  for (const { outcome, ms } of polls) byOutcome.set(outcome, [...(byOutcome.get(outcome) ?? []), ms]);
  return [...byOutcome].map(([outcome, ms]) => `${outcome} × ${ms.length} (answered ${Math.min(...ms)}–${Math.max(...ms)} ms after the wake)`).join(', ');
}

/** "hub 1.2 s, http 3.0 s": the server's shutdown steps of 100 ms or more; the rest of a stop is the signal and the process's exit. */
function describeSteps(stepsMs: Record<string, number>): string {
  if (!Object.keys(stepsMs).length) return 'its shutdown steps not logged';
  const slow = Object.entries(stepsMs).filter(([, ms]) => ms >= 100);
  return `${slow.map(([name, ms]) => `${name} ${(ms / 1000).toFixed(1)} s`).join(', ') || 'no shutdown step took 100 ms'}; the rest signal and exit`;
}

/** "12 / 340 ms": a simulator's own event-loop delay over a stats window (the worst simulator's). */
function describeLoopDelay(stats: SimStats): string {
  return stats.loopDelay ? `${stats.loopDelay.p99Ms.toFixed(0)} / ${stats.loopDelay.maxMs.toFixed(0)} ms` : '—';
}

function triple(values: number[]): string {
  if (!values.length) return 'none';
  return `${percentile(values, 0.5)} / ${percentile(values, 0.99)} / ${Math.max(...values)} ms`;
}

function locationsOf(files: { text?: string }[]): { id: string; organization: string; name: string }[] {
  const found: { id: string; organization: string; name: string }[] = [];
  for (const file of files) {
    for (const doc of parseAllDocuments(file.text ?? '')) {
      const value = doc.toJS() as { kind?: string; metadata?: { name: string }; spec?: { organization: string } } | null;
      if (value?.kind === 'Location') found.push({ id: `${value.spec!.organization}/${value.metadata!.name}`, organization: value.spec!.organization, name: value.metadata!.name });
    }
  }
  return found.sort((a, b) => a.id.localeCompare(b.id));
}

/** A server's /metrics text; undefined when the scrape fails: a server still behind a herd may reset
 * the connection, and a run of many minutes must still print what it measured. */
async function scrapeMetricsText(url: string): Promise<string | undefined> {
  try {
    return await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(30_000) })).text();
  } catch (error) {
    progress(`${url}/metrics not read: ${(error as Error).message}`);
    return undefined;
  }
}

/** Every server's /metrics text, each undefined where the scrape failed. */
function scrapeAll(servers: ServerProcess[]): Promise<Array<string | undefined>> {
  return Promise.all(servers.map((s) => scrapeMetricsText(s.url)));
}

/** Values of metrics in a /metrics text, by name (the first sample of each, no labels); NaN for each
 * when the scrape failed. */
function metricValues(text: string | undefined, names: string[]): number[] {
  const lines = text?.split('\n') ?? [];
  return names.map((name) => Number(lines.find((l) => l.startsWith(`${name} `))?.split(' ')[1] ?? NaN));
}

/** The 304 polls the servers answered, by latency bucket, summed over them; undefined if one of them
 * could not be read. */
function pollBucketsIn(texts: Array<string | undefined>): Map<number, number> | undefined {
  if (texts.some((t) => t === undefined)) return undefined;
  const summed = new Map<number, number>();
  for (const text of texts) for (const [bound, n] of latencyBuckets(text!, '/api/v1/agent/desired-state', '304')) summed.set(bound, (summed.get(bound) ?? 0) + n);
  return summed;
}

/** A server's event-loop lag since its last scrape (prom-client resets its histogram on collect). */
function loopLagIn(text: string | undefined): { p99Ms: number; maxMs: number } {
  const [p99, max] = metricValues(text, ['pswm_nodejs_eventloop_lag_p99_seconds', 'pswm_nodejs_eventloop_lag_max_seconds']);
  return { p99Ms: p99 * 1000, maxMs: max * 1000 };
}

interface ReconcileLine {
  instance: number;
  status: string;
  trigger: string;
  durationMs: number;
  stagesMs: Record<string, number>;
  compiledScopes: number;
  decidedAgents: number;
  /** When it was logged (its end), in ms after `at`. */
  endedMs: number;
}

/** The reconciles each instance logged since `at` (its "reconcile <status>" lines), in order. */
function reconcilesSince(servers: ServerProcess[], at: number): ReconcileLine[] {
  return servers.flatMap((server, instance) => loggedEntries<ReconcileLine & { time: number }>(server, 'reconcile ')
    .filter((line) => line.time >= at)
    .map((line) => ({ ...line, instance, endedMs: line.time - at })));
}

function describeReconcile(r: ReconcileLine): string {
  const stages = Object.entries(r.stagesMs ?? {}).filter(([, ms]) => ms >= 5).map(([stage, ms]) => `${stage} ${Math.round(ms)}`).join(', ');
  return `instance ${r.instance}: ${r.status} (${r.trigger}) in ${r.durationMs} ms, ended +${r.endedMs} ms, ${r.compiledScopes} scopes compiled, ${r.decidedAgents} agents decided${stages ? `; stages ≥ 5 ms: ${stages}` : ''}`;
}

/** The error lines of a server's log (pino level 50 and up), for a failure's message. */
function serverErrors(server: ServerProcess): string {
  return server.logs().split('\n').filter((line) => /"level":(5|6)\d/.test(line)).slice(-5).join('\n');
}

/** RSS after a full garbage collection: what the live objects take. */
async function rssAfterGc(target: { pid: number; inspectPort: number }): Promise<number> {
  await collectGarbageIn(target.inspectPort);
  return rssBytesOf(target.pid);
}

async function startBaseline(): Promise<{ url: string; pid: number; inspectPort: number; stop(): Promise<void> }> {
  const inspectPort = await freePort();
  const child = spawn(process.execPath, [inspectFlag(inspectPort), BASELINE], { stdio: ['ignore', 'pipe', 'pipe'] });
  // its stderr, but for the inspector's own notices (each forced GC opens and closes a session)
  child.stderr.on('data', (chunk: Buffer) => {
    const lines = String(chunk).split('\n').filter((line) => line && !/^(Debugger (listening|attached|ending)|For help, see)/.test(line));
    if (lines.length) process.stderr.write(`${lines.join('\n')}\n`);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      const match = /listening on (\S+)/.exec(String(chunk));
      if (match) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`the baseline server exited with ${code}`)));
  });
  return {
    url, pid: child.pid!, inspectPort,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Replaces (or appends) this run's "## Fleet (…)" section of docs/BENCHMARKS.md. */
async function writeSection(section: string): Promise<void> {
  const text = await readFile(BENCHMARKS, 'utf8');
  const heading = section.split('\n')[0];
  const start = text.indexOf(`${heading}\n`);
  if (start < 0) return writeFile(BENCHMARKS, `${text.trimEnd()}\n\n${section}\n`);
  const next = text.indexOf('\n## ', start + heading.length);
  await writeFile(BENCHMARKS, `${text.slice(0, start)}${section}\n${next < 0 ? '' : text.slice(next)}`);
}

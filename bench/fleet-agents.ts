// One process of simulated agents for `npm run bench:fleet` (forked by bench/fleet.ts, driven over
// IPC). Each simulated agent does what a real one does on the wire: enrols with its own Ed25519 key
// (an OTP code of its location), logs in by signed assertion, keeps one WebSocket, polls its desired
// state with If-None-Match on its interval with jitter, sends a heartbeat a minute and a report every
// few iterations (with the machine's Chocolatey inventory when it changed, as a Windows agent's
// report carries it: the first report, and one with a package upgraded now and then), answers a
// `reconcile` message with a poll, and reconnects with the agent's own full-jitter backoff. Like the agent, every call of one simulated agent shares one server backoff
// (agent/src/api/server-backoff.ts): while the server fails, polls and heartbeats that fall due are
// skipped, one probe at a time goes out after the jittered delay (never before a Retry-After), and a
// reconnect waits for it. Latencies and deliveries are kept raw and handed to the coordinator on request.
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { KeyObject } from 'node:crypto';
import { simulatedReport } from './fleet-report.ts';
import { LeanPool } from './fleet-http.ts';
import { LeanWebSocket } from './fleet-ws.ts';
import { backoffDelayMs, createServerBackoff, type ServerBackoff } from '../agent/src/api/server-backoff.ts';
import { parseRetryAfter } from '../agent/src/api/http.ts';
import { dueSeries } from '../agent/src/loop/scheduler.ts';
import { parseServerMessage } from '../agent/src/loop/wake-socket.ts';
import { HANDSHAKE_TIMEOUT_MS, RECONNECT_BASE_MS, RECONNECT_MAX_MS, SERVER_BACKOFF } from './fleet-protocol.ts';
import type { FleetCommand, FleetEvent, SimStats } from './fleet-protocol.ts';

interface SimAgent {
  name: string;
  code: string;
  origin: string;
  id?: string;
  privateKey?: KeyObject;
  accessToken?: string;
  tokenExpiresAt: number;
  etag?: string;
  socket?: LeanWebSocket;
  connected: boolean;
  reconnectAttempt: number;
  /** Shared by every call to the server, as in the agent. */
  backoff: ServerBackoff;
  iterations: number;
  /** Which iteration of each `reportEvery` carries this agent's report: drawn at random, so that the
   * fleet's reports are spread evenly over time (with the same phase for all, every agent enrolled in
   * the same minute reported in the same minute: none in the steady state, five times the average
   * rate a few minutes later). */
  reportPhase: number;
  timers: NodeJS.Timeout[];
  stopped: boolean;
  /** Where the socket's (re)connect is, for the bench to say why an agent did not come back. */
  reconnect: string;
  /** The versions of INVENTORY's packages once one was upgraded (until then INVENTORY's own). */
  upgraded?: string[];
}

/** A managed Windows machine's Chocolatey packages: 40, the size of a typical desktop's inventory. */
const INVENTORY = Array.from({ length: 40 }, (_, i) => ({ name: i === 0 ? 'chocolatey' : `package-${String(i).padStart(2, '0')}`, version: `${1 + (i % 7)}.${i}.0`, pinned: i % 10 === 0 }));
/** How often a report finds one package upgraded since the last (the rest of the set is as it was). */
const UPGRADE_CHANCE = 1 / 20;

/** The inventory for this report: as the agent, only when it changed since the last one sent (the
 * agent also sends an unchanged one once a day, which a bench run does not last). */
function inventory(agent: SimAgent, first: boolean): Array<{ name: string; version: string; pinned: boolean }> | undefined {
  const upgrade = Math.random() < UPGRADE_CHANCE;
  if (upgrade) {
    const versions = (agent.upgraded ??= INVENTORY.map((p) => p.version));
    const index = Math.floor(Math.random() * versions.length);
    versions[index] = `${versions[index]}.1`;
  }
  if (!first && !upgrade) return undefined;
  const versions = agent.upgraded;
  return versions ? INVENTORY.map((p, i) => ({ ...p, version: versions[i] })) : INVENTORY;
}

const pools = new Map<string, LeanPool>();
let agents: SimAgent[] = [];
let settings = { pollSeconds: 60, heartbeatSeconds: 60, reportEvery: 5 };
let stats = emptyStats();
let baselineSockets: LeanWebSocket[] = [];
/** Sampled by a timer every LOOP_DELAY_RESOLUTION_MS: each sample is that interval plus the delay. */
const LOOP_DELAY_RESOLUTION_MS = 10;
const loopDelay = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });
loopDelay.enable();
const delayMs = (ns: number) => Math.max(0, ns / 1e6 - LOOP_DELAY_RESOLUTION_MS);

function emptyStats(): SimStats {
  return { latencies: {}, errors: {}, signals: [], documentChanges: [], baselineMessages: [], connects: [] };
}

function send(event: FleetEvent): void {
  process.send?.(event);
}

function pool(origin: string): LeanPool {
  let found = pools.get(origin);
  if (!found) {
    found = new LeanPool(origin, { connections: 64, timeoutMs: 60_000 });
    pools.set(origin, found);
  }
  return found;
}

function recordLatency(endpoint: string, ms: number): void {
  (stats.latencies[endpoint] ??= []).push(ms);
}

function recordError(endpoint: string, what: string): void {
  const key = `${endpoint} ${what}`;
  stats.errors[key] = (stats.errors[key] ?? 0) + 1;
}

/** As the agent's recordOutcome: 5xx, 408 and 429 ("not there or not coping", its isTransient) back
 * off, never before a Retry-After; any other answer ends the backoff. */
function recordAnswer(backoff: ServerBackoff, status: number, retryAfter: string | string[] | undefined): void {
  if (status >= 500 || status === 408 || status === 429) backoff.failed(parseRetryAfter(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, Date.now()));
  else backoff.succeeded();
}

/** status 0: not answered; `failure` says why (skipped by the backoff, or the error's code). */
async function call(agent: Pick<SimAgent, 'origin'> & { backoff?: ServerBackoff }, endpoint: string, method: 'GET' | 'POST', path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json?: any; etag?: string; failure?: string }> {
  if (agent.backoff && !agent.backoff.tryAcquire()) {
    stats.skipped = (stats.skipped ?? 0) + 1;
    return { status: 0, failure: 'skipped' };
  }
  const started = performance.now();
  try {
    const response = await pool(agent.origin).request({
      method, path,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const label = response.status === 304 ? `${endpoint} 304` : endpoint;
    recordLatency(label, performance.now() - started);
    if (response.status >= 400) recordError(endpoint, String(response.status));
    if (agent.backoff) recordAnswer(agent.backoff, response.status, response.headers['retry-after']);
    return { status: response.status, json: response.body ? safeJson(response.body) : undefined, etag: response.headers.etag };
  } catch (error) {
    agent.backoff?.failed();
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    recordError(endpoint, code);
    return { status: 0, failure: code };
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const signText = (key: KeyObject, text: string) => sign(null, Buffer.from(text, 'utf8'), key);

async function enrol(agent: SimAgent): Promise<boolean> {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  agent.privateKey = privateKey;
  const nonce = await call(agent, 'enroll', 'POST', '/api/v1/enroll/nonce');
  if (nonce.status !== 200) return false;
  const n = nonce.json.nonce as string;
  const enrolled = await call(agent, 'enroll', 'POST', '/api/v1/enroll', {
    method: 'otp', code: agent.code, name: agent.name, hostname: agent.name, public_key: pem, nonce: n,
    signature: signText(privateKey, `pswm-enroll-v1\n${n}\notp\n${agent.name}\n${pem}`).toString('base64'),
  });
  if (enrolled.status !== 201) return false;
  agent.id = enrolled.json.agent_id;
  return logIn(agent);
}

async function logIn(agent: SimAgent): Promise<boolean> {
  const now = Math.floor(Date.now() / 1000);
  const payload = Buffer.from(JSON.stringify({ sub: agent.id, aud: 'pswm', iat: now, exp: now + 120, jti: randomBytes(16).toString('base64url') })).toString('base64url');
  const assertion = `${payload}.${signText(agent.privateKey!, payload).toString('base64url')}`;
  const access = await call(agent, 'token', 'POST', '/api/v1/agent/token', { agent_id: agent.id, assertion });
  if (access.status !== 200) return false;
  agent.accessToken = access.json.access_token;
  agent.tokenExpiresAt = Date.parse(access.json.expires_at);
  return true;
}

async function authorized(agent: SimAgent): Promise<Record<string, string>> {
  if (Date.now() > agent.tokenExpiresAt - 60_000) await logIn(agent);
  return { authorization: `Bearer ${agent.accessToken}` };
}

/** Returns what the desired-state call answered (its status, or why it was not answered) and when. */
async function poll(agent: SimAgent): Promise<{ outcome: string; answeredAt: number }> {
  const headers = await authorized(agent);
  const result = await call(agent, 'desired-state', 'GET', '/api/v1/agent/desired-state', undefined, agent.etag ? { ...headers, 'if-none-match': agent.etag } : headers);
  const answeredAt = Date.now();
  if (result.status === 200 && result.etag) {
    if (agent.etag && agent.etag !== result.etag) stats.documentChanges.push({ agent: agent.name, at: Date.now() });
    agent.etag = result.etag;
  }
  agent.iterations++;
  // The first iteration reports, then one in every reportEvery.
  if (agent.iterations === 1 || agent.iterations % settings.reportEvery === agent.reportPhase) await report(agent);
  return { outcome: result.failure ?? String(result.status), answeredAt };
}

async function report(agent: SimAgent): Promise<void> {
  const body = simulatedReport(agent.name, agent.etag?.replaceAll('"', ''));
  const packages = inventory(agent, agent.iterations === 1);
  if (packages) Object.assign(body, { choco_packages: packages });
  await call(agent, 'report', 'POST', '/api/v1/agent/reports', body, await authorized(agent));
}

async function heartbeat(agent: SimAgent): Promise<void> {
  const body = {
    at: new Date().toISOString(),
    metrics: {
      cpu: { usage_percent: 7.5, cores: 12 },
      memory: { total_bytes: 17_179_869_184, used_bytes: 9_663_676_416 },
      disks: [{ mount: 'C:', total_bytes: 512_110_190_592, used_bytes: 201_326_592_000 }],
    },
  };
  await call(agent, 'heartbeat', 'POST', '/api/v1/agent/heartbeat', body, await authorized(agent));
}

function jittered(seconds: number): number {
  return seconds * 1000 * (0.9 + 0.2 * Math.random());
}

/** A timer chain that survives the agent's whole life: first run spread over one interval, each next
 * one due an interval (with jitter) after the previous was due, as in the agent (dueSeries). */
function every(agent: SimAgent, seconds: number, run: () => Promise<void>): void {
  const due = dueSeries(() => performance.now(), performance.now() + Math.random() * seconds * 1000);
  const arm = (delayMs: number) => {
    const timer = setTimeout(async () => {
      agent.timers = agent.timers.filter((t) => t !== timer);
      if (agent.stopped) return;
      await run();
      arm(due.delayToNext(() => jittered(seconds)));
    }, delayMs);
    agent.timers.push(timer);
  };
  arm(due.delayToCurrent());
}

/** A wave of wake-ups is read in full before any is answered: the answers wait until no wake-up has
 * come for READ_QUIET_MS (READ_FIRST_MAX_MS at most). Each real agent is its own machine: one
 * agent's poll never delays another's receipt. Here thousands share a thread, and answering each
 * wake-up as it was read (session 12: after the messages read with it) halved the rate at which the
 * rest of a fleet-wide signal was read, so the bench timed its simulators' polls as the server's
 * delivery. A one-location commit's few wake-ups per simulator wait READ_QUIET_MS. */
const READ_QUIET_MS = 5;
const READ_FIRST_MAX_MS = 2000;
const waitingReactions: Array<() => void> = [];
let firstWaitingAt = 0;
let lastWakeAt = 0;
let reactionCheck: NodeJS.Timeout | undefined;

function reactLater(work: () => void): void {
  lastWakeAt = performance.now();
  if (!waitingReactions.length) firstWaitingAt = lastWakeAt;
  waitingReactions.push(work);
  reactionCheck ??= setTimeout(checkReactions, READ_QUIET_MS);
}

function checkReactions(): void {
  // Timers run before the loop reads its sockets: the check waits for this turn's reads, so that a
  // backlog that came in while the simulator was off its core counts as not quiet.
  setImmediate(() => {
    const now = performance.now();
    const quietMs = now - lastWakeAt;
    if (quietMs < READ_QUIET_MS && now - firstWaitingAt < READ_FIRST_MAX_MS) {
      reactionCheck = setTimeout(checkReactions, READ_QUIET_MS - quietMs);
      return;
    }
    reactionCheck = undefined;
    for (const work of waitingReactions.splice(0)) work();
  });
}

/** Opens the agent's socket; settles once it opened or closed. */
function connect(agent: SimAgent): Promise<void> {
  if (agent.stopped) return Promise.resolve();
  const url = `${agent.origin.replace(/^http/, 'ws')}/api/v1/agent/ws`;
  const started = performance.now();
  // As the agent's wake socket: an upgrade the server never answers (a backlog during a herd) ends
  // after 30 s and is retried. Without it two of 30,000 simulated agents waited forever (run Q).
  agent.reconnect = 'upgrading';
  return new Promise((settled) => {
    agent.socket = new LeanWebSocket(url, { headers: { authorization: `Bearer ${agent.accessToken}` }, handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS }, {
      open() {
        agent.reconnect = 'open';
        agent.backoff.succeeded();
        agent.connected = true;
        agent.reconnectAttempt = 0;
        stats.connects.push({ at: Date.now(), ms: performance.now() - started });
        settled();
      },
      // as the agent: the refusal is the outcome, and the close that follows reconnects
      unexpectedResponse(status, headers) {
        recordError('ws-upgrade', String(status));
        recordAnswer(agent.backoff, status, headers['retry-after']);
      },
      message(text) {
        const message = parseServerMessage(text);
        if (message.type !== 'reconcile') return;
        const at = Date.now();
        const reason = message.reason ?? '';
        stats.signals.push({ agent: agent.name, at, reason });
        const answer = () => void poll(agent).then(({ outcome, answeredAt }) => (stats.wakePolls ??= []).push({ reason, outcome, ms: answeredAt - at }));
        // As the agent (spread-wake.ts): a spread wake starts at a random moment of the window, counted
        // from its receipt, but not before the wave is read (reactLater; one due meanwhile goes right
        // after it). The bench's signals are far enough apart that none comes while another waits.
        const dueAt = performance.now() + Math.floor(Math.random() * message.spreadMs);
        reactLater(message.spreadMs > 0 ? () => void setTimeout(answer, Math.max(0, dueAt - performance.now())) : answer);
      },
      error(error) {
        if (!agent.connected) agent.backoff.failed();
        recordError('ws', (error as NodeJS.ErrnoException).code ?? 'error');
      },
      close(code) {
        settled();
        agent.connected = false;
        agent.reconnect = `closed (${code})`;
        if (agent.stopped || code === 4401) return;
        const delay = backoffDelayMs(agent.reconnectAttempt++, RECONNECT_BASE_MS, RECONNECT_MAX_MS, Math.random);
        agent.reconnect = `closed (${code}), reconnect in ${delay} ms from ${new Date().toISOString()}`;
        const timer = setTimeout(() => {
          agent.timers = agent.timers.filter((t) => t !== timer);
          void reconnectWhenAllowed(agent);
        }, delay);
        agent.timers.push(timer);
      },
    });
  });
}

/** As the agent's wake socket: a reconnect is one more probe of a server that may be down, so it
 * waits for the shared backoff and takes its turn (a token refresh, when due, is that turn). */
async function reconnectWhenAllowed(agent: SimAgent): Promise<void> {
  for (;;) {
    agent.reconnect = `waiting for the backoff since ${new Date().toISOString()} (failures ${agent.backoff.failures()}, wait ${agent.backoff.waitMs()} ms)`;
    await agent.backoff.whenOpen();
    if (agent.stopped) return;
    if (Date.now() > agent.tokenExpiresAt - 60_000) {
      agent.reconnect = 'logging in';
      // refused for good (not a transient failure): the agent would stop here too
      if (!(await logIn(agent)) && agent.backoff.failures() === 0) {
        agent.reconnect = 'gave up: log-in refused';
        return;
      }
    } else if (agent.backoff.tryAcquire()) return void connect(agent);
  }
}

/** Runs `work` over `items` with at most `limit` in flight. */
async function inParallel<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]);
  }));
}

async function handle(command: FleetCommand): Promise<void> {
  switch (command.type) {
    case 'enrol': {
      settings = command.settings;
      agents = command.agents.map((a) => ({ ...a, tokenExpiresAt: 0, connected: false, reconnectAttempt: 0, backoff: createServerBackoff({ policy: SERVER_BACKOFF }), iterations: 0, reportPhase: Math.floor(Math.random() * settings.reportEvery), timers: [], stopped: false, reconnect: 'not yet' }));
      let failed = 0;
      let done = 0;
      await inParallel(agents, command.concurrency, async (agent) => {
        if (!(await enrol(agent))) failed++;
        if (++done % 500 === 0) send({ type: 'progress', done, failed });
      });
      // The first poll fetches the document (200) so the later ones can be 304s.
      await inParallel(agents.filter((a) => a.accessToken), command.concurrency, async (agent) => void (await poll(agent)));
      send({ type: 'enrolled', count: agents.length - failed, failed });
      return;
    }
    case 'connect': {
      const live = agents.filter((a) => a.accessToken);
      // Sockets open at a bounded rate, as a fleet's do over its first minutes, not in one burst.
      await inParallel(live, command.concurrency, (agent) => connect(agent));
      for (const agent of live) {
        every(agent, settings.pollSeconds, async () => void (await poll(agent)));
        every(agent, settings.heartbeatSeconds, () => heartbeat(agent));
      }
      send({ type: 'connected', count: live.filter((a) => a.connected).length });
      return;
    }
    case 'count-connected': {
      const live = agents.filter((a) => a.accessToken);
      const stuck = live.filter((a) => !a.connected).slice(0, 5).map((a) => `${a.name}: ${a.reconnect}`);
      send({ type: 'connected', count: live.filter((a) => a.connected).length, stuck });
      return;
    }
    case 'baseline-connect': {
      const sockets = Array.from({ length: command.count }, () => command.url);
      const origin = command.url.replace(/^ws/, 'http');
      await inParallel(sockets, command.concurrency, (url) => new Promise<void>((settled) => {
        baselineSockets.push(new LeanWebSocket(url, { handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS }, {
          open: settled,
          close: () => settled(),
          message() {
            stats.baselineMessages.push(Date.now());
            // as an agent answers a signal (poll), so the simulators are as busy as in the pswm run
            reactLater(() => void call({ origin } as SimAgent, 'baseline-poll', 'GET', '/api/v1/agent/desired-state', undefined, { 'if-none-match': '"baseline"' }));
          },
          error: (error) => recordError('baseline-ws', (error as NodeJS.ErrnoException).code ?? 'error'),
        }));
      }));
      send({ type: 'connected', count: baselineSockets.filter((s) => s.isOpen).length });
      return;
    }
    case 'baseline-close':
      for (const socket of baselineSockets) socket.terminate();
      baselineSockets = [];
      send({ type: 'closed' });
      return;
    case 'take-stats':
      send({ type: 'stats', stats: { ...stats, loopDelay: { p99Ms: delayMs(loopDelay.percentile(99)), maxMs: delayMs(loopDelay.max) } } });
      stats = emptyStats();
      loopDelay.reset();
      return;
    case 'stop':
      for (const agent of agents) {
        agent.stopped = true;
        for (const timer of agent.timers) clearTimeout(timer);
        agent.socket?.terminate();
      }
      await Promise.all([...pools.values()].map((p) => p.destroy()));
      send({ type: 'stopped' });
      process.exit(0);
  }
}

process.on('message', (command: FleetCommand) => {
  handle(command).catch((error: Error) => send({ type: 'failed', message: error.stack ?? error.message }));
});
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });

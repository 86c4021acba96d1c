import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type postgres from 'postgres';
import { API_PREFIX, buildApp } from '../src/api/app.ts';
import { loadConfig } from '../src/config/config.ts';
import { createBus } from '../src/hub/bus.ts';
import { createHub } from '../src/hub/hub.ts';
import { createSocketClaims } from '../src/hub/socket-claims.ts';
import type { AgentPrincipal } from '../src/agents/access-token.ts';
import type { HubOptions } from '../src/hub/hub.ts';
import { createLogger } from '../src/logger.ts';
import { setImmediate as nextTurn } from 'node:timers/promises';
import v8 from 'node:v8';
import vm from 'node:vm';
import { connectAgentSocket } from './support/agent-socket.ts';
import { freshDatabase, oneClientDatabase } from './support/database.ts';

const silentLog = createLogger({ logLevel: 'silent' });
const TIMEOUT = { timeout: 60_000 };

/** A server with the hub on a real database and bus; agent tokens come from a stand-in authority. */
async function setup(t: import('node:test').TestContext, options: Partial<HubOptions> = {}, { withClaims = false, log = silentLog } = {}) {
  const { sql } = await freshDatabase(t);
  const bus = await createBus(oneClientDatabase(sql), log);
  const tokens = new Map<string, AgentPrincipal>();
  const revoked = new Set<string>();
  const claims = withClaims ? createSocketClaims(sql) : undefined;
  const hub = createHub({ bus, authority: { verify: (token) => tokens.get(token), isRevoked: (agentId) => revoked.has(agentId) }, log, options, claims });
  const app = await buildApp({ db: oneClientDatabase(sql), config: loadConfig([], {}), log });
  // Weak references to each upgrade's objects: what an accepted socket still keeps alive.
  const upgrades: WeakRef<object>[] = [];
  app.addHook('onRequest', async (request, reply) => {
    if (request.url === `${API_PREFIX}/agent/ws`) upgrades.push(new WeakRef(request), new WeakRef(reply), new WeakRef(request.raw), new WeakRef(request.log));
  });
  await app.register(hub.plugin, { prefix: API_PREFIX });
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(async () => {
    await hub.close();
    await app.close();
    await bus.close();
  });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const agent = (name: string, agentId: string = randomUUID()) => {
    const principal = { agentId, name, organization: 'acme', location: 'lab' };
    const token = `test-token-${principal.agentId}`;
    tokens.set(token, principal);
    return { ...principal, token, connect: (opts = {}) => connectAgentSocket(url, token, opts) };
  };
  const metric = async (name: string) => {
    const text = await (await fetch(`${url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(name));
    return line ? Number(line.split(' ').at(-1)) : undefined;
  };
  /** An agent with its row in the database (socket claims refer to it). */
  const enrolled = async (name: string) => {
    const [{ id }] = await sql<{ id: string }[]>`insert into agents (name, organization, location, status, public_key) values (${name}, 'acme', 'lab', 'active', 'test key') returning id`;
    return agent(name, id);
  };
  return { sql, bus, hub, app, url, agent, enrolled, claims, metric, revoked, upgrades };
}

test('the upgrade is refused with 401 without a token, with a forged one, or with a non-bearer header', TIMEOUT, async (t) => {
  const { url, agent, hub } = await setup(t);
  const web = agent('web-1');
  await assert.rejects(connectAgentSocket(url, undefined), /HTTP 401/);
  await assert.rejects(connectAgentSocket(url, `${web.token}x`), /HTTP 401/);
  await assert.rejects(connectAgentSocket(url, 'pswm-agent.e30.AAAA'), /HTTP 401/);
  await assert.rejects(connectAgentSocket(url, undefined, { headers: { authorization: `Basic ${web.token}` } }), /HTTP 401/);
  assert.equal(hub.connectedCount(), 0);
  const socket = await web.connect();
  assert.equal(hub.connectedCount(), 1);
  socket.socket.close();
});

test('a socket that answers pings stays connected, and the gauge counts it', TIMEOUT, async (t) => {
  const { agent, hub, metric } = await setup(t, { pingIntervalMs: 200 });
  const socket = await agent('web-1').connect();
  await socket.pingCount(3);
  assert.equal(socket.socket.readyState, socket.socket.OPEN);
  assert.equal(hub.connectedCount(), 1);
  assert.equal(await metric('pswm_websocket_connections'), 1);
  socket.socket.close();
  await socket.closed;
});

test('a socket that stops answering pings is terminated', TIMEOUT, async (t) => {
  const { agent, hub, metric } = await setup(t, { pingIntervalMs: 200 });
  const socket = await agent('web-1').connect({ autoPong: false });
  const { code } = await socket.closed;
  assert.equal(code, 1006, 'terminated without a close frame');
  assert.ok(socket.pings() >= 1, 'it was pinged first');
  assert.equal(hub.connectedCount(), 0);
  assert.equal(await metric('pswm_websocket_disconnects_total{reason="dead"}'), 1);
});

test('a client that does not read is dropped instead of buffered without bound', TIMEOUT, async (t) => {
  const maxBufferedBytes = 64 * 1024;
  const { agent, hub, metric } = await setup(t, { maxBufferedBytes });
  const [slowAgent, fastAgent] = [agent('slow-1'), agent('fast-1')];
  const slow = await slowAgent.connect();
  const fast = await fastAgent.connect();
  slow.socket.pause(); // stops reading: the kernel buffers fill, then the server's send buffer grows
  const reason = 'r'.repeat(1000);
  let sent = 0;
  // Far more than the socket buffers on both sides can hold (tens of MB), so without the limit the
  // loop would end with everything queued in the server's memory.
  while (hub.connectedCount() === 2 && sent < 50_000) {
    await hub.signalAgents([slowAgent.agentId], reason);
    sent++;
  }
  assert.equal(hub.connectedCount(), 1, `dropped after ${sent} signals`);
  assert.equal(await metric('pswm_websocket_disconnects_total{reason="slow"}'), 1);
  // The others are untouched.
  await hub.signalAgents([fastAgent.agentId], 'still here');
  assert.deepEqual(await fast.message(1), { type: 'reconcile', reason: 'still here' });
  slow.socket.resume();
  await slow.closed;
});

test('a new connection of the same agent replaces the old one', TIMEOUT, async (t) => {
  const { agent, hub } = await setup(t);
  const web = agent('web-1');
  const first = await web.connect();
  const second = await web.connect();
  assert.deepEqual(await first.closed, { code: 4409, reason: 'replaced by a newer connection' });
  assert.equal(hub.connectedCount(), 1);
  await hub.signalAgents([web.agentId], 'after replace');
  assert.deepEqual(await second.message(1), { type: 'reconcile', reason: 'after replace' });
  assert.deepEqual(first.messages, []);
});

test('a signal reaches exactly the named agents, also when the ids need several bus messages', TIMEOUT, async (t) => {
  const { agent, hub } = await setup(t);
  const [a, b, c] = ['a', 'b', 'c'].map((name) => agent(name));
  const [sa, sb, sc] = await Promise.all([a.connect(), b.connect(), c.connect()]);
  // 1,000 uuids are ~39 kB: several NOTIFY payloads, each under PostgreSQL's 8000-byte limit.
  const strangers = Array.from({ length: 1000 }, () => randomUUID());
  await hub.signalAgents([...strangers.slice(0, 500), a.agentId, ...strangers.slice(500), c.agentId, a.agentId], 'policy changed');
  await hub.signalAgents([b.agentId], 'fence');
  assert.deepEqual(await sb.message(1), { type: 'reconcile', reason: 'fence' });
  assert.deepEqual(await sa.message(1), { type: 'reconcile', reason: 'policy changed' });
  assert.deepEqual(await sc.message(1), { type: 'reconcile', reason: 'policy changed' });
  // Everything published before the fence has been delivered by now: a was woken once despite being listed twice.
  await hub.signalAgents([a.agentId, c.agentId], 'fence');
  await Promise.all([sa.message(2), sc.message(2)]);
  assert.equal(sa.messages.length, 2);
  assert.deepEqual(sb.messages, [{ type: 'reconcile', reason: 'fence' }]);
});

test('a fleet-wide signal is one bus message that every socket receives once, also from another instance', TIMEOUT, async (t) => {
  const { agent, hub, sql } = await setup(t);
  const agents = Array.from({ length: 5 }, (_, i) => agent(`all-${i}`));
  const sockets = await Promise.all(agents.map((a) => a.connect()));
  const published: unknown[] = [];
  const listener = await sql.listen('pswm_signal', (payload) => published.push(JSON.parse(payload).payload));
  t.after(() => listener.unlisten());
  await hub.signalAgents('all', 'everyone');
  for (const socket of sockets) assert.deepEqual(await socket.message(1), { type: 'reconcile', reason: 'everyone' });
  for (let waited = 0; !published.length && waited < 5000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.deepEqual(published, [{ all: true, reason: 'everyone' }]);
  // as `pswm-server signal --all` or another instance publishes it
  await publishElsewhere(sql, 'pswm_signal', { all: true, reason: 'from elsewhere' });
  for (const socket of sockets) assert.deepEqual(await socket.message(2), { type: 'reconcile', reason: 'from elsewhere' });
  // malformed messages from the bus are ignored, and deliver nothing
  await publishElsewhere(sql, 'pswm_signal', { all: 'yes', reason: 'malformed' });
  await hub.signalAgents([agents[0].agentId], 'fence');
  await sockets[0].message(3);
  assert.deepEqual(sockets.map((s) => s.messages.length), [3, 2, 2, 2, 2]);
});

test('a signal waking more agents than the wake rate asks them to spread their answers, and is logged; a smaller one goes at once', TIMEOUT, async (t) => {
  const lines: Array<{ msg: string; reason?: string; sockets?: number; spreadMs?: number; sendMs?: number }> = [];
  const log = createLogger({ logLevel: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  const { agent, hub } = await setup(t, { wakeRate: 2 }, { log });
  const agents = Array.from({ length: 5 }, (_, i) => agent(`spread-${i}`));
  const sockets = await Promise.all(agents.map((a) => a.connect()));
  // five woken on this instance at two a second: over 2.5 s
  await hub.signalAgents('all', 'everyone');
  for (const socket of sockets) assert.deepEqual(await socket.message(1), { type: 'reconcile', reason: 'everyone', spread_ms: 2500 });
  // only the agents this instance holds count: three named, of which two are here
  await hub.signalAgents([agents[0].agentId, agents[1].agentId, randomUUID()], 'location');
  assert.deepEqual(await sockets[0].message(2), { type: 'reconcile', reason: 'location' });
  await hub.signalAgents(agents.slice(2).map((a) => a.agentId), 'three');
  assert.deepEqual(await sockets[2].message(2), { type: 'reconcile', reason: 'three', spread_ms: 1500 });
  const woken = lines.filter((line) => line.msg === 'agents woken');
  assert.deepEqual(woken.map(({ reason, sockets: count, spreadMs }) => [reason, count, spreadMs]), [['everyone', 5, 2500], ['three', 3, 1500]]);
  assert.ok(woken.every((line) => typeof line.sendMs === 'number'));
});

test('a revocation on the bus tells the agent and closes its socket with 4401', TIMEOUT, async (t) => {
  const { agent, bus, hub, sql } = await setup(t);
  const web = agent('web-1');
  const other = agent('web-2');
  const socket = await web.connect();
  const otherSocket = await other.connect();
  // Published from another connection, as a revocation on another instance would be.
  await publishElsewhere(sql, 'pswm_agent_revoked', { agentId: web.agentId });
  assert.deepEqual(await socket.closed, { code: 4401, reason: 'agent revoked' });
  assert.deepEqual(socket.messages, [{ type: 'revoked' }]);
  assert.equal(hub.connectedCount(), 1);
  await bus.publish('pswm_signal', { agentIds: [other.agentId], reason: 'still connected' });
  assert.deepEqual(await otherSocket.message(1), { type: 'reconcile', reason: 'still connected' });
});

test('a revocation the bus missed closes the socket at the next keepalive sweep', TIMEOUT, async (t) => {
  const { agent, hub, revoked } = await setup(t, { pingIntervalMs: 200 });
  const web = agent('web-1');
  const socket = await web.connect();
  await socket.pingCount(1);
  revoked.add(web.agentId); // as the authority's reload from the database would find it
  assert.deepEqual(await socket.closed, { code: 4401, reason: 'agent revoked' });
  assert.deepEqual(socket.messages, [{ type: 'revoked' }]);
  assert.equal(hub.connectedCount(), 0);
});

test('closing the hub closes its sockets with 1001, and logs one line for them all', TIMEOUT, async (t) => {
  const lines: Array<{ msg: string; sockets?: number }> = [];
  const log = createLogger({ logLevel: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  const { agent, hub } = await setup(t, {}, { log });
  const sockets = await Promise.all(['web-1', 'web-2', 'web-3'].map((name) => agent(name).connect()));
  await hub.close();
  assert.deepEqual(await Promise.all(sockets.map(async (socket) => (await socket.closed).code)), [1001, 1001, 1001]);
  assert.equal(hub.connectedCount(), 0);
  assert.deepEqual(lines.filter((line) => line.msg.startsWith('agent socket')).map((line) => [line.msg, line.sockets]), [['agent sockets closed for the shutdown', 3]]);
});

test('a peer that does not answer its close frame does not hold up the server\'s shutdown', TIMEOUT, async (t) => {
  const { agent, hub, app } = await setup(t);
  const socket = await agent('mute-1').connect();
  socket.socket.pause(); // never reads the close frame, so never answers it
  await hub.close();
  // ws would wait 30 s for the answer; the hub cuts the connection after its 1-s grace
  const closed = await Promise.race([app.close().then(() => true), new Promise((resolve) => setTimeout(resolve, 15_000, false))]);
  assert.equal(closed, true, 'the server closed within 15 s');
  socket.socket.resume();
  await socket.closed;
});

test('closing the hub releases its sockets\' claims in one statement: reconnects after a restart displace nothing', TIMEOUT, async (t) => {
  const { enrolled, hub, sql, claims } = await setup(t, {}, { withClaims: true });
  const agents = await Promise.all(['web-1', 'web-2', 'web-3'].map((name) => enrolled(name)));
  await Promise.all(agents.map((a) => a.connect()));
  const held = async () => (await sql<{ n: number }[]>`select count(*)::int as n from agent_socket_claims where holder is not null`)[0].n;
  for (let waited = 0; (await held()) < 3 && waited < 10_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(await held(), 3);
  await hub.close();
  assert.equal(await held(), 0);
  const again = await claims!.claim(agents[0].agentId, { instance: 'address:127.0.0.1', peer: { address: '127.0.0.1' } });
  assert.equal(again.displaced, false, 'nothing to close anywhere, so nothing is announced on the bus');
});

function publishElsewhere(sql: postgres.Sql, channel: string, payload: object) {
  return sql`select pg_notify(${channel}, ${JSON.stringify({ origin: 'another-instance', payload })})`;
}

test('at its socket capacity the hub refuses new agents with 503 but lets a connected agent reconnect', TIMEOUT, async (t) => {
  const { agent, hub, metric, url } = await setup(t, { socketCapacity: 2 });
  const [a, b, c] = [agent('web-1'), agent('web-2'), agent('web-3')];
  const first = await a.connect();
  await b.connect();
  await assert.rejects(c.connect(), /HTTP 503/);
  assert.equal(hub.connectedCount(), 2);
  const ready = await (await fetch(`${url}/ready`)).json() as { checks: { name: string; ready: boolean; message?: string }[] };
  assert.deepEqual(ready.checks.find((c) => c.name === 'agent-sockets'), { name: 'agent-sockets', ready: false, message: 'at capacity: 2 of 2 agent sockets in use' });
  const again = await a.connect();
  await first.closed;
  assert.equal(hub.connectedCount(), 2, 'the reconnect replaced its own socket');
  assert.equal(await metric('pswm_websocket_capacity'), 2);
  again.socket.close();
  await again.closed;
  const third = await c.connect();
  assert.equal(hub.connectedCount(), 2);
  third.socket.close();
});

test('an upgrade whose agent left while its connection waited in the accept queue is dropped: not accepted, not claimed, counted', TIMEOUT, async (t) => {
  const { url, enrolled, hub, sql, metric } = await setup(t, {}, { withClaims: true });
  const gone = await enrolled('gone');
  const dir = await mkdtemp(path.join(tmpdir(), 'pswm-abandoned-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const sent = path.join(dir, 'sent');
  // A client in another process sends its upgrade request and closes its end while this process's
  // event loop is busy (a starved server): the server finds the request and the FIN together.
  const request = [
    'GET /api/v1/agent/ws HTTP/1.1', `Host: 127.0.0.1:${new URL(url).port}`, 'Connection: Upgrade', 'Upgrade: websocket',
    'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', `Authorization: Bearer ${gone.token}`, '', '',
  ].join('\r\n');
  const client = spawn(process.execPath, ['-e', `
    const socket = require('node:net').connect(${new URL(url).port}, '127.0.0.1', () => socket.end(${JSON.stringify(request)}, () => require('node:fs').writeFileSync(${JSON.stringify(sent)}, '')));
    socket.on('data', () => {}); socket.on('close', () => process.exit(0)); socket.on('error', () => process.exit(1));`], { stdio: 'ignore' });
  t.after(() => client.kill('SIGKILL'));
  const busyUntil = Date.now() + 20_000;
  while (!existsSync(sent) && Date.now() < busyUntil); // eslint-disable-line no-empty
  assert.ok(existsSync(sent), 'the client sent its request and closed');

  for (let waited = 0; (await metric('pswm_websocket_upgrades_abandoned_total')) !== 1 && waited < 10_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(await metric('pswm_websocket_upgrades_abandoned_total'), 1);
  assert.equal(hub.connectedCount(), 0);
  assert.equal((await sql`select agent_id from agent_socket_claims`).length, 0, 'no claim written, none to release');
  // an agent that waits for its answer is accepted as before
  const live = await gone.connect();
  assert.equal(hub.connectedCount(), 1);
  live.socket.close();
});

test('an accepted socket keeps nothing of its upgrade alive: request, reply, logger and IncomingMessage are collected', TIMEOUT, async (t) => {
  const { agent, hub, upgrades } = await setup(t);
  const sockets = await Promise.all(['mem-1', 'mem-2', 'mem-3'].map((name) => agent(name).connect()));
  assert.equal(hub.connectedCount(), 3);
  assert.equal(upgrades.length, 12);
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  // A target deref'd (or made a WeakRef) in this job is kept until the job ends: collect in a new one.
  for (let round = 0; round < 5; round++) {
    await nextTurn();
    gc();
    await nextTurn();
    if (!upgrades.some((ref) => ref.deref())) break;
  }
  const alive = upgrades.map((ref) => ref.deref()?.constructor.name).filter(Boolean);
  assert.deepEqual(alive, [], `still reachable from the open sockets: ${alive.join(', ')}`);
  assert.equal(hub.connectedCount(), 3);
  for (const socket of sockets) socket.socket.close();
});

// `npm run bench:fan-out -- [--sockets 15000] [--rounds 8]`: the server's side of a fleet-wide
// signal, one small message to every agent socket, sent as a bare `ws` server sends it (ws.send of
// the JSON text on each socket: the baseline) and as the hub sends it (framed once by
// server/src/hub/frames.ts, the same bytes written on each socket), alternately in one run against
// the same sockets. Two client processes hold the sockets (LeanWebSocket, bench/fleet-ws.ts) and
// report when each has read every message; they run under SCHED_IDLE. Figures: the send loop's wall time on the server's
// event loop (what stalls it), per socket, and the last message read after.
import { fork, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { WebSocketServer } from 'ws';
import { textFrame, writeFrame } from '../server/src/hub/frames.ts';
import { LeanWebSocket } from './fleet-ws.ts';

const { values } = parseArgs({ options: {
  sockets: { type: 'string', default: '15000' }, rounds: { type: 'string', default: '8' },
  role: { type: 'string', default: 'main' }, port: { type: 'string' }, count: { type: 'string' },
} });
// The reason a commit's signal carries: a revision id, as the hub sends it.
const MESSAGE = JSON.stringify({ type: 'reconcile', reason: 'policy revision 0123456789abcdef0123456789abcdef01234567' });
const SENDERS = {
  'ws.send per socket (bare ws)': (wss: WebSocketServer) => {
    for (const client of wss.clients) client.send(MESSAGE);
  },
  'framed once, written per socket (pswm hub)': (wss: WebSocketServer) => {
    const frame = textFrame(MESSAGE);
    for (const client of wss.clients) writeFrame(client, frame);
  },
};
type SenderName = keyof typeof SENDERS;
const CLIENT_PROCESSES = 2;

if (values.role === 'server') {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false }, () => void process.send!({ port: (wss.address() as import('node:net').AddressInfo).port }));
  process.on('message', (name: SenderName) => {
    const started = performance.now();
    SENDERS[name](wss);
    process.send!({ loopMs: performance.now() - started, sockets: wss.clients.size });
  });
} else if (values.role === 'clients') {
  const count = Number(values.count);
  let received = 0;
  let opened = 0;
  const url = `ws://127.0.0.1:${values.port}/`;
  for (let i = 0; i < count; i++) {
    new LeanWebSocket(url, { handshakeTimeoutMs: 60_000 }, {
      open: () => void (++opened === count && process.send!({ opened })),
      message: () => void (++received % count === 0 && process.send!({ round: received / count, at: Date.now() })),
      error: (error) => process.send!({ error: error.message }),
    });
    // a few hundred at a time: the server's accept queue holds 511
    if (i % 250 === 249) await new Promise((resolve) => setTimeout(resolve, 25));
  }
} else {
  const SOCKETS = Number(values.sockets);
  const ROUNDS = Number(values.rounds);
  const self = new URL(import.meta.url).pathname;
  const children: ChildProcess[] = [];
  const next = <T>(child: ChildProcess, wanted: (m: T) => boolean) => new Promise<T>((resolve, reject) => {
    const onMessage = (m: T & { error?: string }) => {
      if (m.error) reject(new Error(`a client failed: ${m.error}`));
      else if (wanted(m)) {
        child.off('message', onMessage);
        resolve(m);
      }
    };
    child.on('message', onMessage);
  });
  try {
    const server = fork(self, ['--role', 'server'], { stdio: 'inherit' });
    children.push(server);
    const { port } = await next<{ port: number }>(server, (m) => 'port' in m);
    const perClient = Math.ceil(SOCKETS / CLIENT_PROCESSES);
    // Under SCHED_IDLE, as bench:fleet --sim-nice idle runs its simulators: they read when the server
    // leaves a core, so the loop is the server's own and not a share of a crowded machine.
    const idle = { execPath: 'chrt', execArgv: ['--idle', '0', process.execPath, ...process.execArgv] };
    const clients = Array.from({ length: CLIENT_PROCESSES }, () => fork(self, ['--role', 'clients', '--port', String(port), '--count', String(perClient)], { stdio: 'inherit', ...idle }));
    children.push(...clients);
    process.stderr.write(`opening ${perClient * CLIENT_PROCESSES} sockets...\n`);
    await Promise.all(clients.map((c) => next<{ opened: number }>(c, (m) => 'opened' in m)));
    const samples = Object.fromEntries(Object.keys(SENDERS).map((name) => [name, []])) as unknown as Record<SenderName, { loopMs: number; lastMs: number }[]>;
    for (let round = 0; round < ROUNDS; round++) {
      for (const name of Object.keys(SENDERS) as SenderName[]) {
        const read = Promise.all(clients.map((c) => next<{ at: number }>(c, (m) => 'round' in m)));
        const sentAt = Date.now();
        server.send(name);
        const { loopMs } = await next<{ loopMs: number }>(server, (m) => 'loopMs' in m);
        const lastMs = Math.max(...(await read).map((m) => m.at)) - sentAt;
        samples[name].push({ loopMs, lastMs });
        process.stderr.write(`round ${round + 1}, ${name}: loop ${loopMs.toFixed(1)} ms, last read after ${lastMs} ms\n`);
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
    }
    const median = (list: number[]) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
    const total = perClient * CLIENT_PROCESSES;
    const rows = Object.entries(samples).map(([name, list]) => {
      const loops = list.map((s) => s.loopMs);
      return `| ${name} | ${median(loops).toFixed(0)} (${Math.min(...loops).toFixed(0)}–${Math.max(...loops).toFixed(0)}) ms | ${((median(loops) * 1000) / total).toFixed(1)} µs | ${median(list.map((s) => s.lastMs))} ms |`;
    });
    const [bare, hub] = Object.values(samples).map((list) => median(list.map((s) => s.loopMs)));
    console.log([
      `Fan-out: one ${MESSAGE.length}-byte text message to each of ${total.toLocaleString('en-US')} sockets, ${ROUNDS} rounds of each way alternately (${os.cpus()[0]?.model.trim()}, ${os.cpus().length} cores, Node ${process.version}; the clients in ${CLIENT_PROCESSES} other processes on the same machine, under SCHED_IDLE)`,
      '',
      '| send | send loop, median (min–max) | per socket | last message read after (median) |',
      '|---|---|---|---|',
      ...rows,
      '',
      `The hub's loop takes ${(hub / bare).toFixed(2)} × bare ws's.`,
    ].join('\n'));
  } finally {
    for (const child of children) child.kill();
  }
}

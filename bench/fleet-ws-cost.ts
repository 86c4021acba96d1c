// `npm run bench:fleet-ws`: what reading a fleet-wide signal costs a simulator, with the `ws` client
// (what the simulators used until session 14) and with bench/fleet-ws.ts's LeanWebSocket, in the
// same run against the same bare `ws` server in another process. Each client holds --sockets
// sockets; the server sends one small JSON message to every socket (a fleet-wide signal), --waves
// times a round; the figures are this process's CPU time (user + system) per socket opened (the
// opening handshake, as after a server's restart) and per message read and parsed.
import { fork } from 'node:child_process';
import { parseArgs } from 'node:util';
import WebSocket, { WebSocketServer } from 'ws';
import { LeanWebSocket } from './fleet-ws.ts';

const { values } = parseArgs({ options: { sockets: { type: 'string', default: '3750' }, waves: { type: 'string', default: '20' }, server: { type: 'boolean', default: false } } });
const MESSAGE = JSON.stringify({ type: 'reconcile', reason: 'bench fleet-wide 1' });

if (values.server) {
  const wss: WebSocketServer = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false }, () => void process.send!((wss.address() as import('node:net').AddressInfo).port));
  process.on('message', () => {
    for (const client of wss.clients) client.send(MESSAGE);
  });
} else {
  const SOCKETS = Number(values.sockets);
  const WAVES = Number(values.waves);
  const child = fork(new URL(import.meta.url).pathname, ['--server'], { stdio: 'inherit' });
  const port = await new Promise<number>((resolve) => child.once('message', (m) => resolve(m as number)));
  const url = `ws://127.0.0.1:${port}/api/v1/agent/ws`;
  let received = 0;
  let allReceived = () => {};
  const onMessage = (text: string) => {
    if ((JSON.parse(text) as { type?: string }).type === 'reconcile' && ++received === SOCKETS) allReceived();
  };
  /** Opens the sockets of one client; returns a function that closes them. */
  type Client = () => Promise<() => void>;
  const clients: Record<string, Client> = {
    'ws WebSocket': async () => {
      const sockets = await Promise.all(Array.from({ length: SOCKETS }, () => new Promise<WebSocket>((resolve, reject) => {
        const socket = new WebSocket(url, { perMessageDeflate: false });
        socket.on('message', (data) => onMessage(String(data)));
        socket.once('open', () => resolve(socket)).once('error', reject);
      })));
      return () => sockets.forEach((s) => s.terminate());
    },
    'LeanWebSocket (bench/fleet-ws.ts)': async () => {
      const sockets = await Promise.all(Array.from({ length: SOCKETS }, () => new Promise<LeanWebSocket>((resolve, reject) => {
        const socket: LeanWebSocket = new LeanWebSocket(url, { handshakeTimeoutMs: 30_000 }, { message: onMessage, open: () => resolve(socket), error: reject });
      })));
      return () => sockets.forEach((s) => s.terminate());
    },
  };
  const rows: string[] = [];
  for (const round of [1, 2, 3, 4, 5, 6]) {
    for (const [name, open] of Object.entries(clients)) {
      const connectCpu = process.cpuUsage();
      const close = await open();
      const connect = process.cpuUsage(connectCpu);
      let cpuUs = 0;
      let lastMs = 0;
      for (let wave = 0; wave < WAVES; wave++) {
        received = 0;
        const cpu = process.cpuUsage();
        const sentAt = performance.now();
        await new Promise<void>((resolve) => {
          allReceived = resolve;
          child.send('broadcast');
        });
        const used = process.cpuUsage(cpu);
        cpuUs += used.user + used.system;
        lastMs += performance.now() - sentAt;
      }
      close();
      rows.push(`| ${round} | ${name} | ${((connect.user + connect.system) / SOCKETS).toFixed(0)} | ${SOCKETS * WAVES} | ${(cpuUs / (SOCKETS * WAVES)).toFixed(1)} | ${(lastMs / WAVES).toFixed(0)} ms |`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  console.log(`Simulator WebSocket client cost: ${SOCKETS} sockets, ${WAVES} broadcasts of one ${MESSAGE.length}-byte message to each per round (Node ${process.version})\n`);
  console.log('| round | client | CPU µs per connect (all at once) | messages | CPU µs per message | last message read after (mean over the broadcasts) |\n|---|---|---|---|---|---|');
  console.log(rows.join('\n'));
  child.kill();
}

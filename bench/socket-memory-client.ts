// The client side of bench/socket-memory.ts: reads access tokens (JSON) from stdin, opens one agent
// WebSocket per token against the URL in argv, prints "connected N" and holds them until killed.
import WebSocket from 'ws';

const url = `${process.argv[2]}/api/v1/agent/ws`;
let input = '';
for await (const chunk of process.stdin) input += chunk;
const tokens = JSON.parse(input) as string[];
const sockets: WebSocket[] = [];
let next = 0;
await Promise.all(Array.from({ length: 50 }, async () => {
  while (next < tokens.length) {
    const socket = new WebSocket(url, { headers: { authorization: `Bearer ${tokens[next++]}` }, perMessageDeflate: false });
    socket.on('error', () => {});
    await new Promise<void>((resolve) => socket.once('open', () => resolve()).once('close', () => resolve()));
    sockets.push(socket);
  }
}));
process.stdout.write(`connected ${sockets.filter((s) => s.readyState === WebSocket.OPEN).length}\n`);
setInterval(() => {}, 60_000);

// The baseline of `npm run bench:fleet`: a bare `ws` server (no authentication, no keepalive, no
// bus) holding the same number of sockets as the pswm run. `POST /broadcast` sends one small
// message to every socket, as a fleet-wide signal does; the simulated agents answer it as they
// answer a signal, with a desired-state poll, which a bare route answers 304, so the simulators do
// the same work in both runs and the comparison is the servers'. The coordinator reads this
// process's RSS.
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';
import { BASELINE_REASON } from './fleet-protocol.ts';

const MESSAGE = JSON.stringify({ type: 'reconcile', reason: BASELINE_REASON });
const server = createServer((request, response) => {
  if (request.method === 'POST' && request.url === '/broadcast') {
    for (const client of wss.clients) client.send(MESSAGE);
    response.end(String(wss.clients.size));
    return;
  }
  if (request.method === 'GET' && request.url === '/api/v1/agent/desired-state') {
    response.writeHead(304, { etag: '"baseline"' });
    response.end();
    return;
  }
  response.statusCode = 404;
  response.end();
});
const wss = new WebSocketServer({ server, perMessageDeflate: false });
server.listen(0, '127.0.0.1', () => {
  const address = server.address() as import('node:net').AddressInfo;
  process.stdout.write(`listening on http://127.0.0.1:${address.port}\n`);
});
process.on('SIGTERM', () => process.exit(0));

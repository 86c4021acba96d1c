// A reverse proxy in front of a real pswm-server that can play an outage: while `down`, every HTTP
// request and every new WebSocket upgrade is answered 503 with a Retry-After, as a load balancer
// does when its backend is unhealthy. WebSockets opened before the outage stay connected (they
// carry the server's signals), so a test can wake the agent while its HTTP calls fail. Every HTTP
// request is recorded with its time.
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';

export interface ProxiedRequest {
  at: number;
  method: string;
  path: string;
  status: number;
}

export interface OutageProxy {
  url: string;
  requests: ProxiedRequest[];
  setDown(down: boolean, retryAfterSeconds?: number): void;
}

export async function startOutageProxy(t: TestContext, target: string): Promise<OutageProxy> {
  const upstream = new URL(target);
  const requests: ProxiedRequest[] = [];
  const sockets = new Set<net.Socket>();
  let down = false;
  let retryAfter = 1;
  const unavailable = JSON.stringify({ error: { code: 'UNAVAILABLE', message: 'the backend is down (outage proxy)' } });

  const server = http.createServer((req, res) => {
    const record = { at: Date.now(), method: req.method ?? '', path: req.url ?? '', status: 0 };
    requests.push(record);
    if (down) {
      record.status = 503;
      req.resume();
      res.writeHead(503, { 'retry-after': String(retryAfter), 'content-type': 'application/json' }).end(unavailable);
      return;
    }
    const forward = http.request(new URL(req.url ?? '/', upstream), { method: req.method, headers: req.headers }, (answer) => {
      record.status = answer.statusCode ?? 0;
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('upgrade', (req, socket, head) => {
    if (down) {
      socket.end(`HTTP/1.1 503 Service Unavailable\r\nretry-after: ${retryAfter}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`);
      return;
    }
    const back = net.connect(Number(upstream.port), upstream.hostname, () => {
      const headers = Object.entries(req.headers).map(([name, value]) => `${name}: ${Array.isArray(value) ? value.join(', ') : value}`);
      back.write(`${req.method} ${req.url} HTTP/1.1\r\n${headers.join('\r\n')}\r\n\r\n`);
      back.write(head);
      socket.pipe(back).pipe(socket);
    });
    sockets.add(back);
    back.on('close', () => {
      sockets.delete(back);
      socket.destroy();
    });
    back.on('error', () => socket.destroy());
    socket.on('error', () => back.destroy());
    socket.on('close', () => back.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    setDown(next, seconds = retryAfter) {
      down = next;
      retryAfter = seconds;
    },
  };
}

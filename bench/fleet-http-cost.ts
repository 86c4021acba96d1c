// `npm run bench:fleet-http`: what one simulated agent's request costs the simulator, with undici's
// Pool.request() (what the simulators used until session 13) and with bench/fleet-http.ts's LeanPool,
// in the same run against the same bare server in another process. Requests go out at a fixed rate,
// as a simulator's timers send them, a poll (304, no body) and a heartbeat (JSON body, 204) in turn;
// the figure is this process's CPU time (user + system) per request.
import { fork } from 'node:child_process';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { LeanPool } from './fleet-http.ts';

const { values } = parseArgs({ options: { rate: { type: 'string', default: '2000' }, seconds: { type: 'string', default: '10' }, server: { type: 'boolean', default: false } } });

if (values.server) {
  // The bare server: answers as pswm-server does, a 304 to a poll with a matching ETag, 204 to a post.
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      if (request.method === 'GET') response.writeHead(304, { etag: '"a"' }).end();
      else response.writeHead(204).end();
    });
  });
  server.keepAliveTimeout = 120_000;
  server.listen(0, '127.0.0.1', () => process.send!((server.address() as import('node:net').AddressInfo).port));
} else {
  const RATE = Number(values.rate);
  const SECONDS = Number(values.seconds);
  const child = fork(new URL(import.meta.url).pathname, ['--server'], { stdio: 'inherit' });
  const port = await new Promise<number>((resolve) => child.once('message', (m) => resolve(m as number)));
  const origin = `http://127.0.0.1:${port}`;
  const headers = { authorization: `Bearer ${'t'.repeat(180)}`, 'if-none-match': '"a"' };
  const body = JSON.stringify({ at: new Date().toISOString(), metrics: { cpu: { usage_percent: 7.5, cores: 12 }, memory: { total_bytes: 17_179_869_184, used_bytes: 9_663_676_416 } } });
  type Send = (i: number) => Promise<number>;
  const undici = new Pool(origin, { connections: 64, pipelining: 1, keepAliveTimeout: 120_000 });
  const lean = new LeanPool(origin, { connections: 64, timeoutMs: 60_000 });
  const clients: Record<string, Send> = {
    'undici Pool.request': async (i) => {
      const response = await undici.request(i % 2 ? { method: 'POST', path: '/api/v1/agent/heartbeat', headers: { ...headers, 'content-type': 'application/json' }, body } : { method: 'GET', path: '/api/v1/agent/desired-state', headers });
      await response.body.text();
      return response.statusCode;
    },
    'LeanPool (bench/fleet-http.ts)': async (i) => (await lean.request(i % 2 ? { method: 'POST', path: '/api/v1/agent/heartbeat', headers: { ...headers, 'content-type': 'application/json' }, body } : { method: 'GET', path: '/api/v1/agent/desired-state', headers })).status,
  };
  const rows: string[] = [];
  for (const round of [1, 2, 3, 4, 5, 6]) {
    for (const [name, send] of Object.entries(clients)) {
      let sent = 0;
      let failed = 0;
      const cpu = process.cpuUsage();
      const started = performance.now();
      // A tick a millisecond sends what is due, as thousands of agents' timers do between them.
      await new Promise<void>((resolve) => {
        const timer = setInterval(() => {
          const due = Math.min(RATE * SECONDS, Math.floor(((performance.now() - started) / 1000) * RATE));
          for (; sent < due; sent++) send(sent).then((status) => status >= 400 && failed++, () => failed++);
          if (sent >= RATE * SECONDS) {
            clearInterval(timer);
            resolve();
          }
        }, 1);
      });
      await new Promise((resolve) => setTimeout(resolve, 500));
      const used = process.cpuUsage(cpu);
      const perRequestUs = (used.user + used.system) / sent;
      rows.push(`| ${round} | ${name} | ${sent} | ${failed} | ${perRequestUs.toFixed(1)} | ${((100 * (used.user + used.system)) / ((performance.now() - started) * 1000)).toFixed(1)} % |`);
    }
  }
  console.log(`Simulator HTTP client cost: ${RATE} requests/s for ${SECONDS} s each, alternating a 304 poll and a 204 heartbeat (Node ${process.version})\n`);
  console.log('| round | client | requests | failed | CPU µs per request | CPU share |\n|---|---|---|---|---|---|');
  console.log(rows.join('\n'));
  await undici.destroy();
  await lean.destroy();
  child.kill();
}

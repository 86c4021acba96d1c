// The fastify patch (patches/fastify+5.12.8.patch, upstream fastify/fastify#6725): with a handler
// deadline set, as the server's app sets one, a request with a body also emits 'close' once the body
// has been read, and fastify took that for the client going away: every heartbeat and report aborted
// its request.signal and built an AbortError with a stack trace (~5 % of the server's CPU at 30,000
// agents). A client that really goes away still aborts it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import Fastify from 'fastify';
import { REQUEST_DEADLINE_MS } from '../src/api/app.ts';

test('a POST whose body was read keeps its request.signal; a client that leaves aborts it', async (t) => {
  const app = Fastify({ handlerTimeout: REQUEST_DEADLINE_MS });
  const seen: boolean[] = [];
  const left = Promise.withResolvers<boolean>();
  app.post('/body', async (request) => {
    await new Promise((resolve) => setTimeout(resolve, 20));
    seen.push(request.signal.aborted);
    return { ok: true };
  });
  app.get('/slow', async (request) => {
    request.signal.addEventListener('abort', () => left.resolve(true));
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    return { ok: true };
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => app.close());
  const { port } = app.server.address() as { port: number };

  for (let i = 0; i < 5; i++) {
    const response = await fetch(`http://127.0.0.1:${port}/body`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ i }) });
    assert.equal(response.status, 200);
  }
  assert.deepEqual(seen, [false, false, false, false, false]);

  const leaving = httpRequest({ host: '127.0.0.1', port, path: '/slow' });
  leaving.on('error', () => {});
  leaving.end();
  setTimeout(() => leaving.destroy(), 100);
  assert.equal(await Promise.race([left.promise, new Promise((resolve) => setTimeout(() => resolve(false), 1_500))]), true);
});

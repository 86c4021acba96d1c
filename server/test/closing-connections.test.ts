// A keep-alive connection whose request is in flight when the server closes is ended after its
// answer, so the close does not wait for the client's next request or the keep-alive timeout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { closeConnectionsWhenClosing } from '../src/api/closing-connections.ts';

test('an answer sent while the server closes says Connection: close, and the close does not wait for that connection', { timeout: 30_000 }, async (t) => {
  const app = Fastify();
  await app.register(closeConnectionsWhenClosing);
  let arrived: () => void = () => {};
  const inFlight = new Promise<void>((resolve) => (arrived = resolve));
  app.get('/slow', async () => {
    arrived();
    await new Promise((resolve) => setTimeout(resolve, 300));
    return { ok: true };
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const agent = new http.Agent({ keepAlive: true });
  t.after(() => agent.destroy());
  const { port } = app.server.address() as AddressInfo;
  const answer = new Promise<http.IncomingMessage>((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/slow', agent }, (res) => (res.resume(), resolve(res))).on('error', reject);
  });
  await inFlight;
  const closed = app.close().then(() => 'closed');
  const res = await answer;
  assert.equal(res.statusCode, 200, 'the request in flight is answered');
  assert.equal(res.headers.connection, 'close');
  // without the header the keep-alive connection stays open until its 72-s timeout
  assert.equal(await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 10_000, 'still open after 10 s'))]), 'closed');
});

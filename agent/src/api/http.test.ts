import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { callServer, isNetworkError, isTransient, ServerError } from './http.ts';

async function listen(t: TestContext, handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  t.after(() => server.closeAllConnections());
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

test('a JSON body goes out with its length and comes back parsed, headers included', async (t) => {
  const url = await listen(t, async (req, res) => {
    let text = '';
    for await (const chunk of req) text += chunk;
    res.writeHead(201, { 'content-type': 'application/json', etag: '"d1"' });
    res.end(JSON.stringify({ method: req.method, length: req.headers['content-length'], got: JSON.parse(text) }));
  });
  const answer = await callServer(url, 'POST', '/x', { body: { name: 'é' } });
  assert.equal(answer.status, 201);
  assert.equal(answer.headers.etag, '"d1"');
  assert.deepEqual(answer.body, { method: 'POST', length: String(Buffer.byteLength('{"name":"é"}')), got: { name: 'é' } });
});

test('an answer outside expect is a ServerError with the API code, or HTTP_<status> and the text', async (t) => {
  const url = await listen(t, (req, res) => {
    if (req.url === '/api') return void res.writeHead(409, { 'content-type': 'application/json' }).end('{"error":{"code":"CONFLICT","message":"taken"}}');
    res.writeHead(502).end('bad gateway');
  });
  const api = await callServer(url, 'GET', '/api').catch((e) => e);
  assert.ok(api instanceof ServerError);
  assert.deepEqual([api.status, api.code, api.message, isTransient(api)], [409, 'CONFLICT', 'GET /api: taken', false]);
  const proxy = await callServer(url, 'GET', '/other').catch((e) => e);
  assert.deepEqual([proxy.status, proxy.code, proxy.message, isTransient(proxy)], [502, 'HTTP_502', 'GET /other: bad gateway', true]);
});

test('a server that stays silent times out, and a closed port is refused: both are network errors', async (t) => {
  const url = await listen(t, () => {}); // never answers
  const silent = await callServer(url, 'GET', '/slow', { timeoutMs: 100 }).catch((e) => e);
  assert.equal(silent.code, 'ETIMEDOUT');
  assert.ok(isNetworkError(silent) && isTransient(silent));

  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  const refused = await callServer(`http://127.0.0.1:${port}/`, 'GET', '/').catch((e) => e);
  assert.equal(refused.code, 'ECONNREFUSED');
  assert.ok(isNetworkError(refused));
  assert.ok(!isNetworkError(new ServerError(500, 'X', 'x')));
});

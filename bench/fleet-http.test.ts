import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { LeanPool, parseResponse } from './fleet-http.ts';

describe('parseResponse', () => {
  const bytes = (text: string) => Buffer.from(text, 'latin1');

  it('waits for the whole head and the whole Content-Length body', () => {
    const full = 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\nETag: "abc"\r\n\r\n{"a":"é"}x';
    assert.equal(parseResponse(bytes('HTTP/1.1 200 OK\r\nContent-Len')), undefined);
    const utf8 = Buffer.concat([bytes(full.slice(0, full.indexOf('\r\n\r\n') + 4)), Buffer.from('{"a":"é"}x', 'utf8')]);
    assert.equal(parseResponse(utf8.subarray(0, utf8.length - 1)), undefined);
    const parsed = parseResponse(utf8)!;
    assert.deepEqual(parsed.response, { status: 200, headers: { 'content-type': 'application/json', 'content-length': '11', etag: '"abc"' }, body: '{"a":"é"}x' });
    assert.equal(parsed.keepAlive, true);
  });

  it('reads a 304 without a body and sees Connection: close', () => {
    const parsed = parseResponse(bytes('HTTP/1.1 304 Not Modified\r\nETag: "x"\r\nConnection: close\r\n\r\n'))!;
    assert.deepEqual(parsed.response, { status: 304, headers: { etag: '"x"', connection: 'close' }, body: '' });
    assert.equal(parsed.keepAlive, false);
  });

  it('joins a chunked body once its last chunk is in', () => {
    const head = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n';
    assert.equal(parseResponse(bytes(`${head}5\r\nhello\r\n`)), undefined);
    assert.equal(parseResponse(bytes(`${head}5\r\nhello\r\n6\r\n world\r\n0\r\n`)), undefined);
    assert.equal(parseResponse(bytes(`${head}5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n`))!.response.body, 'hello world');
  });

  it('refuses what it does not speak, with EPROTO', () => {
    for (const [answer, message] of [
      ['SSH-2.0-OpenSSH\r\n\r\n', /not an HTTP\/1.x status line/],
      ['HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n', /transfer-encoding gzip/],
      ['HTTP/1.1 200 OK\r\n\r\n', /neither a Content-Length nor chunked/],
      ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', /malformed chunk size/],
    ] as const) {
      assert.throws(() => parseResponse(bytes(answer)), (error: NodeJS.ErrnoException) => error.code === 'EPROTO' && message.test(error.message));
    }
  });
});

describe('LeanPool against a Node HTTP server', () => {
  let server: Server;
  let origin: string;
  const sockets = new Set<Socket>();
  const seen: Array<{ method: string; url: string; headers: Record<string, unknown>; body: string }> = [];

  before(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.setEncoding('utf8').on('data', (chunk) => (body += chunk)).on('end', () => {
        seen.push({ method: request.method!, url: request.url!, headers: request.headers, body });
        if (request.url === '/slow') return; // never answered
        if (request.url === '/chunked') {
          response.write('part one, ');
          setTimeout(() => response.end('part two'), 20);
          return;
        }
        if (request.url === '/close') response.setHeader('connection', 'close');
        response.writeHead(request.method === 'POST' ? 201 : 200, { 'content-type': 'application/json', etag: '"e1"' }).end(JSON.stringify({ echo: body }));
      });
    });
    server.on('connection', (socket) => sockets.add(socket.on('close', () => sockets.delete(socket))));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it('sends method, path, headers and body, and reuses its connections', async () => {
    const pool = new LeanPool(origin, { connections: 2, timeoutMs: 5000 });
    try {
      const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => pool.request({ method: 'POST', path: `/p/${i}`, headers: { 'content-type': 'application/json', authorization: 'Bearer t' }, body: JSON.stringify({ i, name: 'Zürich' }) })));
      assert.deepEqual(answers.map((a) => [a.status, a.headers.etag, JSON.parse(a.body).echo]), answers.map((_, i) => [201, '"e1"', JSON.stringify({ i, name: 'Zürich' })]));
      const posted = seen.filter((s) => s.url.startsWith('/p/'));
      assert.equal(posted.length, 10);
      assert.equal(posted[0].headers.authorization, 'Bearer t');
      assert.ok(sockets.size <= 2, `${sockets.size} connections for a pool of 2`);
      const chunked = await pool.request({ method: 'GET', path: '/chunked' });
      assert.equal(chunked.body, 'part one, part two');
    } finally {
      await pool.destroy();
    }
  });

  it('opens a new connection after the server closed one', async () => {
    const pool = new LeanPool(origin, { connections: 1, timeoutMs: 5000 });
    try {
      assert.equal((await pool.request({ method: 'GET', path: '/close' })).status, 200);
      assert.equal((await pool.request({ method: 'GET', path: '/after-close' })).status, 200);
    } finally {
      await pool.destroy();
    }
  });

  it('fails an unanswered request with ETIMEDOUT and the ones destroyed with EDESTROYED', async () => {
    const pool = new LeanPool(origin, { connections: 1, timeoutMs: 300 });
    try {
      await assert.rejects(pool.request({ method: 'GET', path: '/slow' }), { code: 'ETIMEDOUT' });
      const waiting = pool.request({ method: 'GET', path: '/slow' });
      await pool.destroy();
      await assert.rejects(waiting, { code: 'EDESTROYED' });
    } finally {
      await pool.destroy();
    }
  });

  it('fails with ECONNREFUSED when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const pool = new LeanPool(`http://127.0.0.1:${port}`, { connections: 1, timeoutMs: 1000 });
    try {
      await assert.rejects(pool.request({ method: 'GET', path: '/' }), { code: 'ECONNREFUSED' });
    } finally {
      await pool.destroy();
    }
  });
});

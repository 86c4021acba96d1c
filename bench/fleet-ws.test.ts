import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { WebSocketServer, type WebSocket } from 'ws';
import { LeanWebSocket, type LeanSocketHandlers } from './fleet-ws.ts';

/** Everything a LeanWebSocket reported, in order, and a promise for its close. */
function recorder(): { events: string[]; messages: string[]; closed: Promise<number>; opened: Promise<void>; handlers: LeanSocketHandlers } {
  const events: string[] = [];
  const messages: string[] = [];
  let closed!: (code: number) => void;
  let opened!: () => void;
  const closedPromise = new Promise<number>((resolve) => (closed = resolve));
  const openedPromise = new Promise<void>((resolve) => (opened = resolve));
  return {
    events, messages, closed: closedPromise, opened: openedPromise,
    handlers: {
      open: () => (events.push('open'), opened()),
      message: (text) => (events.push('message'), messages.push(text)),
      unexpectedResponse: (status, headers) => events.push(`unexpected ${status} retry-after ${headers['retry-after']}`),
      error: (error) => events.push(`error ${(error as NodeJS.ErrnoException).code}`),
      close: (code) => (events.push(`close ${code}`), closed(code)),
    },
  };
}

describe('LeanWebSocket against a ws server', () => {
  let server: Server;
  let wss: WebSocketServer;
  let url: string;
  const serverSockets: WebSocket[] = [];
  const upgradeHeaders: Array<Record<string, unknown>> = [];
  /** An upgraded connection is the test's to close: the HTTP server no longer tracks it. */
  const upgraded = new Set<import('node:stream').Duplex>();

  before(async () => {
    server = createServer();
    wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
    server.on('upgrade', (request, socket, head) => {
      upgraded.add(socket);
      upgradeHeaders.push(request.headers);
      if (request.url === '/busy') {
        socket.end('HTTP/1.1 503 Service Unavailable\r\nretry-after: 7\r\ncontent-length: 4\r\n\r\nbusy');
        return;
      }
      if (request.url === '/silent') return; // never answered
      wss.handleUpgrade(request, socket, head, (ws) => serverSockets.push(ws));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    for (const socket of upgraded) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it('opens with the headers given, reads messages whole or in fragments, answers pings, and keeps the close code', async () => {
    const r = recorder();
    const socket = new LeanWebSocket(`${url}/api/v1/agent/ws?x=1`, { headers: { authorization: 'Bearer t' }, handshakeTimeoutMs: 5000 }, r.handlers);
    await r.opened;
    assert.equal(socket.isOpen, true);
    assert.equal(upgradeHeaders.at(-1)!.authorization, 'Bearer t');
    const peer = serverSockets.at(-1)!;
    const pong = new Promise<Buffer>((resolve) => peer.once('pong', resolve));
    peer.ping(Buffer.from('are you there'));
    assert.equal((await pong).toString(), 'are you there');
    peer.send(JSON.stringify({ type: 'reconcile', reason: 'Zürich' }));
    peer.send('x'.repeat(70_000)); // a 64-bit length
    peer.send('part one, ', { fin: false });
    peer.send('part two', { fin: true });
    peer.send(Buffer.from('binary'), { binary: true });
    peer.close(4001, 'bye');
    assert.equal(await r.closed, 4001);
    assert.deepEqual(r.messages.map((m) => m.slice(0, 40)), [JSON.stringify({ type: 'reconcile', reason: 'Zürich' }), 'x'.repeat(40), 'part one, part two', 'binary']);
    assert.equal(r.messages[1].length, 70_000);
    assert.deepEqual(r.events.filter((e) => e !== 'message'), ['open', 'close 4001']);
    assert.equal(socket.isOpen, false);
  });

  it('reads many frames arriving in one read and frames split across reads', async () => {
    const r = recorder();
    new LeanWebSocket(url, { handshakeTimeoutMs: 5000 }, r.handlers);
    await r.opened;
    const peer = serverSockets.at(-1)!;
    for (let i = 0; i < 500; i++) peer.send(`message ${i} ${'y'.repeat(i)}`);
    peer.close(1000);
    assert.equal(await r.closed, 1000);
    assert.deepEqual(r.messages, Array.from({ length: 500 }, (_, i) => `message ${i} ${'y'.repeat(i)}`));
  });

  it('reports an upgrade refused with its status and headers, then closes with 1006', async () => {
    const r = recorder();
    new LeanWebSocket(`${url}/busy`, { handshakeTimeoutMs: 5000 }, r.handlers);
    assert.equal(await r.closed, 1006);
    assert.deepEqual(r.events, ['unexpected 503 retry-after 7', 'close 1006']);
  });

  it('gives up on an upgrade not answered in time with ETIMEDOUT', async () => {
    const r = recorder();
    new LeanWebSocket(`${url}/silent`, { handshakeTimeoutMs: 200 }, r.handlers);
    assert.equal(await r.closed, 1006);
    assert.deepEqual(r.events, ['error ETIMEDOUT', 'close 1006']);
  });

  it('terminate() drops the connection at once', async () => {
    const r = recorder();
    const socket = new LeanWebSocket(url, { handshakeTimeoutMs: 5000 }, r.handlers);
    await r.opened;
    socket.terminate();
    assert.equal(await r.closed, 1006);
  });
});

describe('LeanWebSocket against what it does not speak', () => {
  /** A server that answers every upgrade with `answer` (given the client's Sec-WebSocket-Key). */
  async function rawServer(answer: (key: string) => Buffer | string): Promise<{ url: string; close(): Promise<void> }> {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      sockets.add(socket);
      socket.once('data', (data) => socket.write(answer(/sec-websocket-key: (\S+)/i.exec(String(data))![1])));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: async () => {
        for (const socket of sockets) socket.destroy();
        await new Promise((resolve) => server.close(resolve));
      },
    };
  }
  const accepted = (key: string) => `HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ${acceptOf(key)}\r\n\r\n`;

  for (const [name, answer, code] of [
    ['a wrong Sec-WebSocket-Accept', () => 'HTTP/1.1 101 Switching Protocols\r\nsec-websocket-accept: nope\r\n\r\n', 'EPROTO'],
    ['a masked frame', (key: string) => Buffer.concat([Buffer.from(accepted(key)), Buffer.from([0x81, 0x82, 1, 2, 3, 4, 0x61, 0x62])]), 'EPROTO'],
    ['an unknown opcode', (key: string) => Buffer.concat([Buffer.from(accepted(key)), Buffer.from([0x83, 0])]), 'EPROTO'],
    ['a continuation with nothing to continue', (key: string) => Buffer.concat([Buffer.from(accepted(key)), Buffer.from([0x80, 0])]), 'EPROTO'],
    ['not HTTP', () => 'SSH-2.0-OpenSSH_9.2\r\n\r\n', 'EPROTO'],
  ] as const) {
    it(`fails on ${name} with ${code}, then closes`, async () => {
      const raw = await rawServer(answer);
      try {
        const r = recorder();
        new LeanWebSocket(raw.url, { handshakeTimeoutMs: 5000 }, r.handlers);
        assert.equal(await r.closed, 1006);
        assert.equal(r.events.filter((e) => e.startsWith('error')).join(), `error ${code}`);
      } finally {
        await raw.close();
      }
    });
  }

  it('answers a close frame and reads nothing after it (a ping behind it is not answered)', async () => {
    const raw = await rawServer((key) => Buffer.concat([Buffer.from(accepted(key)), Buffer.from([0x88, 0x02, 0x0f, 0xa1, 0x89, 0x00])]));
    try {
      const r = recorder();
      new LeanWebSocket(raw.url, { handshakeTimeoutMs: 5000 }, r.handlers);
      assert.equal(await r.closed, 4001);
      assert.deepEqual(r.events, ['open', 'close 4001']);
    } finally {
      await raw.close();
    }
  });

  it('fails with ECONNREFUSED when nothing listens', async () => {
    const raw = await rawServer(() => '');
    await raw.close();
    const r = recorder();
    new LeanWebSocket(raw.url, { handshakeTimeoutMs: 5000 }, r.handlers);
    assert.equal(await r.closed, 1006);
    assert.deepEqual(r.events, ['error ECONNREFUSED', 'close 1006']);
  });
});

function acceptOf(key: string): string {
  return createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
}

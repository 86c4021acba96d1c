import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createHttpServer } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import type { Writable } from 'node:stream';
import * as wsModule from 'ws';
import { WebSocket, WebSocketServer } from 'ws';
import { textFrame, writeFrame } from './frames.ts';

// ws's own frame parser, as its client runs it (@types/ws does not declare it)
const { Receiver } = wsModule as unknown as { Receiver: new (options: { isServer: boolean; maxPayload: number }) => Writable };

/** What a client's ws parser makes of the bytes: each message's text, or the error it refused them with. */
function parse(bytes: Buffer): Promise<string[]> {
  const receiver = new Receiver({ isServer: false, maxPayload: 0 });
  const messages: string[] = [];
  receiver.on('message', (data: Buffer, isBinary: boolean) => messages.push(`${isBinary ? 'binary' : 'text'}:${data.toString()}`));
  return new Promise((resolve, reject) => {
    receiver.on('error', reject);
    receiver.end(bytes, () => resolve(messages));
  });
}

test('textFrame is a text frame a client parses, at each payload-length encoding', async () => {
  // 0–125 in the second byte, 126–65,535 in 16 bits, 65,536 on in 64 bits; lengths count UTF-8 bytes
  for (const text of ['', 'x'.repeat(125), 'x'.repeat(126), 'x'.repeat(65_535), 'x'.repeat(65_536), 'é'.repeat(63), 'é'.repeat(64)]) {
    assert.deepEqual(await parse(textFrame(text)), [`text:${text}`], `a text of ${Buffer.byteLength(text)} bytes`);
  }
  assert.deepEqual(await parse(Buffer.concat([textFrame('one'), textFrame('two')])), ['text:one', 'text:two']);
});

test('frames written beside ws.send reach a real client whole and in order', async (t) => {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
  await once(wss, 'listening');
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
  t.after(() => new Promise<void>((resolve) => {
    client.terminate();
    for (const socket of wss.clients) socket.terminate();
    wss.close(() => resolve());
  }));
  const [server] = (await once(wss, 'connection')) as [WebSocket];
  const received: string[] = [];
  const all = new Promise<void>((resolve) => client.on('message', (data) => {
    received.push(data.toString());
    if (received.length === 4) resolve();
  }));
  await once(client, 'open');
  server.send('first');
  writeFrame(server, textFrame('second'));
  server.send(Buffer.from('third'), { binary: false });
  writeFrame(server, textFrame('fourth'.repeat(20_000)));
  await all;
  assert.deepEqual(received, ['first', 'second', 'third', 'fourth'.repeat(20_000)]);
});

test('bytes written by writeFrame that the peer has not read count in bufferedAmount', async (t) => {
  const httpServer = createHttpServer();
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  httpServer.on('upgrade', (request, socket, head) => wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws)));
  httpServer.listen(0, '127.0.0.1');
  await once(httpServer, 'listening');
  // A peer that completes the handshake, then reads nothing: the kernel's buffers fill, then ws's.
  const peer = connect((httpServer.address() as AddressInfo).port, '127.0.0.1');
  t.after(() => {
    peer.destroy();
    for (const client of wss.clients) client.terminate();
    httpServer.close();
  });
  peer.write('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
  const [server] = (await once(wss, 'connection')) as [WebSocket];
  await once(peer, 'data');
  peer.pause();
  const frame = textFrame('x'.repeat(64 * 1024));
  let written = 0;
  while (server.bufferedAmount === 0 && written < 4096) {
    writeFrame(server, frame);
    written++;
  }
  assert.ok(server.bufferedAmount > 0, `after ${written} frames of 64 KB nothing is counted as unsent`);
  assert.ok(server.bufferedAmount <= written * frame.length);
});

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { firstArrivals, startCapture } from './fleet-capture.ts';

/** A server's unmasked final text frame, as the capture's filter expects (its first byte 0x81). */
const textFrame = (text: string) => Buffer.concat([Buffer.from([0x81, text.length]), Buffer.from(text)]);

/** A pcap file as tcpdump writes one on Linux: Ethernet frames of IPv4 TCP segments. */
function pcap(packets: Array<{ ms: number; toPort: number; fromPort?: number; payload: string }>, { nanoseconds = false } = {}): Buffer {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(nanoseconds ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(262144, 16);
  header.writeUInt32LE(1, 20);
  const records = packets.map(({ ms, toPort, fromPort = 40000, payload }) => {
    const ethernet = Buffer.alloc(14);
    ethernet.writeUInt16BE(0x0800, 12);
    const ip = Buffer.alloc(20);
    ip[0] = 0x45;
    const tcp = Buffer.alloc(32); // with the timestamp option, as Linux sends
    tcp.writeUInt16BE(fromPort, 0);
    tcp.writeUInt16BE(toPort, 2);
    tcp[12] = 8 << 4;
    const frame = Buffer.concat([ethernet, ip, tcp, Buffer.from(payload)]);
    const record = Buffer.alloc(16);
    record.writeUInt32LE(Math.floor(ms / 1000), 0);
    record.writeUInt32LE(Math.round((ms % 1000) * (nanoseconds ? 1e6 : 1e3)), 4);
    record.writeUInt32LE(frame.length, 8);
    record.writeUInt32LE(frame.length, 12);
    return Buffer.concat([record, frame]);
  });
  return Buffer.concat([header, ...records]);
}

describe('the arrival of a message at each socket, read from a capture', () => {
  const since = 1_700_000_000_000;

  it('keeps the first segment carrying the marker per destination port, after the start', () => {
    const file = pcap([
      { ms: since - 5, toPort: 50001, payload: '\x81\x20{"reason":"signal 1"}' }, // before the start
      { ms: since + 12.4, toPort: 50001, payload: '\x81\x20{"reason":"signal 1"}' },
      { ms: since + 30, toPort: 50001, payload: '\x81\x20{"reason":"signal 1"}' }, // a later copy
      { ms: since + 20, toPort: 50002, payload: '\x81\x20{"reason":"other"}' },
      { ms: since + 250.6, toPort: 50003, payload: '\x81\x20{"reason":"signal 1"}' },
      // the same agent port number towards another server: another connection
      { ms: since + 99, toPort: 50001, fromPort: 40001, payload: '\x81\x20{"reason":"signal 1"}' },
    ]);
    assert.deepEqual(firstArrivals(file, 'signal 1', since).sort((a, b) => a - b), [12, 99, 251]);
  });

  it('reads nanosecond timestamps', () => {
    assert.deepEqual(firstArrivals(pcap([{ ms: since + 7.25, toPort: 50001, payload: 'x signal' }], { nanoseconds: true }), 'signal', since), [7]);
  });

  it('refuses what is not a pcap file of a link type it reads', () => {
    assert.throws(() => firstArrivals(Buffer.from('not a capture at all, longer than a header'), 'x', since), /not a little-endian pcap file/);
    const raw = pcap([]);
    raw.writeUInt32LE(105, 20); // 802.11
    assert.throws(() => firstArrivals(raw, 'x', since), /link type 105/);
  });

  it('times a frame a real TCP server writes on the loopback interface', async (t) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'pswm-capture-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const accepted: net.Socket[] = [];
    const server = net.createServer((socket) => accepted.push(socket));
    t.after(() => {
      for (const socket of accepted) socket.destroy();
      server.close();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    const clients = await Promise.all([0, 1, 2].map(() => new Promise<net.Socket>((resolve) => {
      const client = net.connect(port, '127.0.0.1', () => resolve(client));
    })));
    t.after(() => clients.forEach((c) => c.destroy()));
    while (accepted.length < clients.length) await new Promise((resolve) => setTimeout(resolve, 5));
    const received = Promise.all(clients.map((client) => new Promise((resolve) => client.once('data', resolve))));
    const capture = await startCapture([port], path.join(dir, 'capture.pcap'));
    const sentAt = Date.now();
    accepted[0].write(textFrame('not the message')); // another frame first: not counted
    for (const socket of accepted) socket.write(textFrame('bench signal 1'));
    await received;
    const wroteWithin = Date.now() - sentAt;
    const { file, dropped } = await capture.stop((written) => firstArrivals(written, 'bench signal 1', sentAt).length >= 3);
    const arrivals = firstArrivals(file, 'bench signal 1', sentAt);
    assert.equal(dropped, 0);
    assert.equal(arrivals.length, 3, 'one arrival per socket');
    for (const ms of arrivals) assert.ok(ms >= 0 && ms <= wroteWithin + 1, `${ms} ms, written within ${wroteWithin} ms`);
  });
});

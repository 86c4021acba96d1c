// A fleet-wide signal is one message to every agent socket. ws frames a message anew for each
// socket it sends on (its byte length, a header buffer, a corked two-chunk write); framed once and
// written whole, the send loop over 15,000 sockets took 152–166 ms against ws.send's 204–235 ms on
// a 2-core machine (docs/BENCHMARKS.md, "Fan-out send loop"), and left less garbage per socket.
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';

const FIN_TEXT = 0x81;

/** One final, unmasked text frame (RFC 6455 §5.2) holding `text`, as a server sends it. */
export function textFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const length = payload.length;
  const headerLength = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = FIN_TEXT;
  if (length < 126) frame[1] = length;
  else if (length < 65_536) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  payload.copy(frame, headerLength);
  return frame;
}

/**
 * Writes a frame from textFrame() on the socket's TCP stream, beside ws's own writes. Safe because
 * ws writes each frame whole and in order on that same stream and queues only while it compresses
 * (the hub negotiates no permessage-deflate) or reads a Blob (the hub sends none); bytes written here
 * still count in `socket.bufferedAmount`, so the slow-consumer limit sees them.
 */
export function writeFrame(socket: WebSocket, frame: Buffer): void {
  const tcp = (socket as WebSocket & { _socket?: Duplex })._socket;
  if (!tcp) throw new Error('ws no longer exposes the socket it writes to: send with socket.send() instead');
  tcp.write(frame);
}

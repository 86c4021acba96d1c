// The simulators' WebSocket client: the opening handshake, then frames read straight off the socket.
// A fleet-wide signal is one small text frame to each of 30,000 sockets, read by eight simulator
// processes on the two cores the servers use too, so what a simulator spends per frame is what the
// bench measures as delivery time (`npm run bench:fleet-ws` compares it with the `ws` client's). It
// speaks what a pswm agent's wake socket needs: text and binary messages (fragmented or not), pings
// answered with pongs, the server's close frame answered and its code kept; no extensions, nothing
// sent but pongs and closes.
import { createHash, randomBytes, randomFillSync } from 'node:crypto';
import net from 'node:net';
import { failure, parseHead } from './fleet-http.ts';

export interface LeanSocketHandlers {
  open?(): void;
  /** A text or binary message, decoded as UTF-8 (an agent's wake socket carries JSON). */
  message?(text: string): void;
  /** The server answered the upgrade with something other than 101; `close` (1006) follows. */
  unexpectedResponse?(status: number, headers: Record<string, string>): void;
  /** `close` (1006) follows. The error's `code`: a socket's (ECONNREFUSED, ...), ETIMEDOUT for a
   * handshake not answered in time, EPROTO for what this client does not speak. */
  error?(error: Error): void;
  /** Once, when the connection is gone: the code of the server's close frame, 1005 for one without a
   * code, 1006 for none. */
  close?(code: number): void;
}

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const OPCODE = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;
/** One read buffer for every socket of the process: each read is parsed before the next one. */
const READ_BUFFER = Buffer.allocUnsafe(256 * 1024);
const EMPTY = Buffer.alloc(0);

export class LeanWebSocket {
  readonly #socket: net.Socket;
  readonly #handlers: LeanSocketHandlers;
  readonly #expectedAccept: string;
  readonly #handshakeTimer: NodeJS.Timeout;
  #open = false;
  #closeCode = 1006;
  /** Bytes read but not yet parsed (a partial head or frame), copied out of READ_BUFFER. */
  #partial: Buffer = EMPTY;
  /** The frames of a fragmented message so far. */
  #fragments: Buffer[] | undefined;

  constructor(url: string, options: { headers?: Record<string, string>; handshakeTimeoutMs: number }, handlers: LeanSocketHandlers) {
    const { hostname, port, pathname, search, protocol } = new URL(url);
    if (protocol !== 'ws:') throw new Error(`LeanWebSocket speaks plain ws, not ${protocol}`);
    this.#handlers = handlers;
    const key = randomBytes(16).toString('base64');
    this.#expectedAccept = createHash('sha1').update(key + GUID).digest('base64');
    const onread = { buffer: READ_BUFFER, callback: (bytes: number) => this.#onRead(READ_BUFFER.subarray(0, bytes)) };
    this.#socket = net.connect({ host: hostname, port: Number(port || 80), noDelay: true, onread });
    let head = `GET ${pathname}${search} HTTP/1.1\r\nhost: ${hostname}:${port}\r\nconnection: Upgrade\r\nupgrade: websocket\r\nsec-websocket-version: 13\r\nsec-websocket-key: ${key}\r\n`;
    for (const [name, value] of Object.entries(options.headers ?? {})) head += `${name}: ${value}\r\n`;
    this.#socket.write(`${head}\r\n`);
    this.#handshakeTimer = setTimeout(() => this.#fail(failure('ETIMEDOUT', `no answer to the upgrade in ${options.handshakeTimeoutMs} ms`)), options.handshakeTimeoutMs);
    this.#socket.on('error', (error) => this.#handlers.error?.(error));
    this.#socket.on('close', () => {
      clearTimeout(this.#handshakeTimer);
      this.#open = false;
      this.#handlers.close?.(this.#closeCode);
    });
  }

  get isOpen(): boolean {
    return this.#open;
  }

  /** Drops the connection without a closing handshake, as ws's terminate(). */
  terminate(): void {
    this.#socket.destroy();
  }

  /** The socket's 'error' (reported) and 'close' follow. */
  #fail(error: Error): void {
    if (!this.#socket.destroyed) this.#socket.destroy(error);
  }

  /** Always true: go on reading (false would pause the socket). */
  #onRead(chunk: Buffer): true {
    let data = this.#partial.length ? Buffer.concat([this.#partial, chunk]) : chunk;
    try {
      if (!this.#open) {
        const rest = this.#handshake(data);
        if (!rest) {
          this.#partial = this.#socket.destroyed ? EMPTY : Buffer.from(data);
          return true;
        }
        data = rest;
      }
      const used = this.#frames(data);
      this.#partial = used < data.length && !this.#socket.destroyed ? Buffer.from(data.subarray(used)) : EMPTY;
    } catch (error) {
      this.#fail(error as Error);
    }
    return true;
  }

  /** Reads the answer to the upgrade: what follows it once open, undefined while it is not all in. */
  #handshake(data: Buffer): Buffer | undefined {
    const head = parseHead(data);
    if (!head) return undefined;
    clearTimeout(this.#handshakeTimer);
    if (head.status !== 101) {
      this.#handlers.unexpectedResponse?.(head.status, head.headers);
      this.#socket.destroy();
      return undefined;
    }
    if (head.headers['sec-websocket-accept'] !== this.#expectedAccept) throw failure('EPROTO', 'the upgrade answered with a wrong Sec-WebSocket-Accept');
    this.#open = true;
    this.#handlers.open?.();
    return data.subarray(head.bodyStart);
  }

  /** Handles every whole frame in `data`; returns how many bytes they took. */
  #frames(data: Buffer): number {
    let at = 0;
    // writable: not after the close frame was answered (end()), when a pong could not be written
    while (data.length - at >= 2 && this.#socket.writable) {
      const first = data[at];
      const second = data[at + 1];
      if (second & 0x80) throw failure('EPROTO', 'a masked frame from the server');
      let length = second & 0x7f;
      let headerLength = 2;
      if (length === 126) {
        if (data.length - at < 4) break;
        length = data.readUInt16BE(at + 2);
        headerLength = 4;
      } else if (length === 127) {
        if (data.length - at < 10) break;
        if (data.readUInt32BE(at + 2) !== 0) throw failure('EPROTO', 'a frame of 4 GiB or more');
        length = data.readUInt32BE(at + 6);
        headerLength = 10;
      }
      if (data.length - at < headerLength + length) break;
      const payload = data.subarray(at + headerLength, at + headerLength + length);
      at += headerLength + length;
      this.#frame((first & 0x80) !== 0, first & 0x0f, payload);
    }
    return at;
  }

  #frame(fin: boolean, opcode: number, payload: Buffer): void {
    switch (opcode) {
      case OPCODE.text:
      case OPCODE.binary:
        if (this.#fragments) throw failure('EPROTO', 'a new message inside a fragmented one');
        if (fin) return void this.#handlers.message?.(payload.toString('utf8'));
        this.#fragments = [Buffer.from(payload)];
        return;
      case OPCODE.continuation:
        if (!this.#fragments) throw failure('EPROTO', 'a continuation frame with no message to continue');
        this.#fragments.push(Buffer.from(payload));
        if (!fin) return;
        this.#handlers.message?.(Buffer.concat(this.#fragments).toString('utf8'));
        this.#fragments = undefined;
        return;
      case OPCODE.ping:
        this.#socket.write(maskedFrame(OPCODE.pong, payload));
        return;
      case OPCODE.pong:
        return;
      case OPCODE.close:
        this.#closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        this.#open = false;
        // The closing handshake: the code echoed, then the server closes the TCP connection.
        this.#socket.end(maskedFrame(OPCODE.close, payload.subarray(0, 2)));
        return;
      default:
        throw failure('EPROTO', `a frame with opcode ${opcode}`);
    }
  }
}

/** A client's frame (RFC 6455 §5.3: masked), for the control frames this client sends (≤ 125 bytes). */
function maskedFrame(opcode: number, payload: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(6 + payload.length);
  frame[0] = 0x80 | opcode;
  frame[1] = 0x80 | payload.length;
  randomFillSync(frame, 2, 4);
  for (let i = 0; i < payload.length; i++) frame[6 + i] = payload[i] ^ frame[2 + (i % 4)];
  return frame;
}

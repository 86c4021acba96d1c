// A TCP proxy in front of the local PostgreSQL that lets a test see and change the wire protocol of
// each connection: what the client sends (`fromClient`) and what PostgreSQL answers (`fromServer`),
// by default passed through. Closed, with every connection, when the test ends.
import net from 'node:net';
import { POSTGRES_ADMIN_URL } from './database.ts';

export interface ProxiedConnection {
  /** 1 for the first connection through the proxy, 2 for the next… */
  index: number;
  toServer(chunk: Buffer): void;
  toClient(chunk: Buffer): void;
  /** Sends `last` to the client (a FATAL error, say) and closes both sides. */
  close(last?: Buffer): void;
}

export interface ProxyHandlers {
  fromClient?(chunk: Buffer, connection: ProxiedConnection): void;
  fromServer?(chunk: Buffer, connection: ProxiedConnection): void;
}

export interface PostgresProxy {
  /** `url` (a postgres:// URL of the local server) with the proxy's port. */
  via(url: string): string;
  connections(): number;
}

export async function startPostgresProxy(t: { after(fn: () => Promise<void> | void): void }, handlers: ProxyHandlers): Promise<PostgresProxy> {
  const upstream = new URL(POSTGRES_ADMIN_URL);
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => (sockets.add(socket), socket.on('close', () => sockets.delete(socket)));
  let connections = 0;
  const server = net.createServer((client) => {
    track(client);
    const backend = track(net.connect(Number(upstream.port || 5432), upstream.hostname));
    const connection: ProxiedConnection = {
      index: ++connections,
      toServer: (chunk) => void backend.write(chunk),
      toClient: (chunk) => void client.write(chunk),
      close(last) {
        backend.destroy();
        if (last) client.end(last);
        else client.end();
      },
    };
    backend.on('close', () => client.end());
    client.on('close', () => backend.destroy());
    backend.on('error', () => client.destroy());
    client.on('error', () => backend.destroy());
    client.on('data', (chunk) => (handlers.fromClient ? handlers.fromClient(chunk, connection) : connection.toServer(chunk)));
    backend.on('data', (chunk) => (handlers.fromServer ? handlers.fromServer(chunk, connection) : connection.toClient(chunk)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const port = String((server.address() as net.AddressInfo).port);
  return {
    via(url) {
      const proxied = new URL(url);
      proxied.port = port;
      return proxied.toString();
    },
    connections: () => connections,
  };
}

/** A backend's ErrorResponse message. */
export function errorResponse(severity: 'ERROR' | 'FATAL', code: string, message: string): Buffer {
  const fields = Buffer.from(`S${severity}\0V${severity}\0C${code}\0M${message}\0\0`);
  const head = Buffer.alloc(5);
  head.write('E');
  head.writeInt32BE(4 + fields.length, 1);
  return Buffer.concat([head, fields]);
}

/** ReadyForQuery, idle. */
export const READY_FOR_QUERY = Buffer.from([0x5a, 0, 0, 0, 5, 0x49]);

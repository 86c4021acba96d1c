// An agent gives up on its WebSocket handshake after 30 s and closes its connection. When a herd of
// agents reconnects to an instance that cannot keep up, connections wait in the kernel's accept queue
// for longer than that, and the instance accepts them after their agents have left: the upgrade
// request and the agent's FIN are both waiting. Accepting such a socket costs a token check, a socket
// claim and its release in the database, and a log line each way, for a socket nobody reads, on the
// instance that is already behind. (In bench:fleet's collapsed 30,000-agent herd most agents gave up
// while still queued: 5,465 such upgrades against 55,008 timeouts, docs/BENCHMARKS.md.)
import type { Socket } from 'node:net';
import { setImmediate as nextTurn } from 'node:timers/promises';

/** Whether the client closed its end of the connection before the server got to its upgrade request.
 * The request is parsed from one read of the socket and its upgrade handled in that same turn; a FIN
 * that arrived behind it is read at the event loop's next poll phase, which two check phases span. */
export async function clientLeft(socket: Socket): Promise<boolean> {
  await nextTurn();
  await nextTurn();
  return socket.destroyed || !socket.readable;
}

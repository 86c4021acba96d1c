// Forces a full garbage collection in another Node.js process through its inspector, so that memory
// per agent is read over live objects and not over garbage a collection has yet to free (bench:fleet
// read −0.5 KB per agent at 15,000 when the enrolment's garbage was collected between its two
// readings). The inspector listens from the process's start (--inspect): activated later by SIGUSR1,
// it found its port taken by one of the simulators' 60,000 client sockets (session 14, run E).
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';

/** The flag that makes a process's inspector listen on `port` from its start (it does not wait for a
 * debugger: --inspect, not --inspect-brk). */
export function inspectFlag(port: number): string {
  return `--inspect=127.0.0.1:${port}`;
}

export async function collectGarbageIn(inspectPort: number): Promise<void> {
  const debuggerUrl = await inspectorUrl(inspectPort);
  const socket = new WebSocket(debuggerUrl);
  try {
    await once(socket, 'open');
    const answered = new Promise<void>((resolve, reject) => {
      socket.on('message', (data) => {
        const reply = JSON.parse(String(data)) as { id?: number; error?: { message: string } };
        if (reply.id !== 1) return;
        if (reply.error) reject(new Error(`HeapProfiler.collectGarbage: ${reply.error.message}`));
        else resolve();
      });
    });
    socket.send(JSON.stringify({ id: 1, method: 'HeapProfiler.collectGarbage' }));
    await answered;
  } finally {
    socket.close();
  }
}

async function inspectorUrl(port: number): Promise<string> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as { webSocketDebuggerUrl?: string }[];
      if (targets[0]?.webSocketDebuggerUrl) return targets[0].webSocketDebuggerUrl;
    } catch (error) {
      lastError = error;
    }
    await sleep(100);
  }
  throw new Error(`no inspector on port ${port}: ${(lastError as Error | undefined)?.message ?? 'no target'}`);
}

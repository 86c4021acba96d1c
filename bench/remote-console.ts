// `npm run bench:remote-console`: what a remote console costs the server, and that a slow operator
// cannot make it buffer without bound. A real pswm-server and a real `pswm agent` (node-pty); an
// operator that reads everything (throughput baseline, server RSS while relaying) beside one that
// stops reading while the shell writes without end (`base64 /dev/zero`): server RSS sampled
// throughout, and whether the session is still alive (paused, not dropped) afterwards.
// Prints a markdown section for docs/BENCHMARKS.md ("Remote console").
import os from 'node:os';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { enrolledAgent, startFleet } from '../agent/test/support/fleet.ts';

const { values } = parseArgs({ options: { megabytes: { type: 'string', default: '50' }, stall: { type: 'string', default: '20' } } });
const megabytes = Number(values.megabytes);
const stallSeconds = Number(values.stall);

const cleanups: Array<() => unknown> = [];
const t = { after: (fn: () => unknown) => void cleanups.push(fn) } as unknown as TestContext;
const rssMb = async (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

interface Session {
  socket: WebSocket;
  received(): number;
  waitFor(marker: string, timeoutMs: number): Promise<void>;
  type(text: string): void;
}

async function openSession(url: string, token: string, agent: string): Promise<Session> {
  const ws = new URL('/api/v1/console/ws', url);
  ws.protocol = 'ws:';
  ws.search = new URLSearchParams({ agent, reason: 'bench:remote-console', cols: '200', rows: '50' }).toString();
  const socket = new WebSocket(ws, { headers: { authorization: `Bearer ${token}` } });
  let received = 0;
  let tail = '';
  const waiters = new Set<() => void>();
  const started = new Promise<void>((resolve, reject) => {
    socket.on('message', (data: Buffer, isBinary) => {
      if (!isBinary) {
        const message = JSON.parse(data.toString());
        if (message.type === 'started') resolve();
        if (message.type === 'refused' || message.type === 'ended') reject(new Error(JSON.stringify(message)));
        return;
      }
      received += data.length;
      tail = (tail + data.toString('latin1')).slice(-200);
      waiters.forEach((fn) => fn());
    });
  });
  await started;
  return {
    socket,
    received: () => received,
    type: (text) => socket.send(Buffer.from(text), { binary: true }),
    waitFor: (marker, timeoutMs) => new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${marker} within ${timeoutMs} ms`)), timeoutMs);
      const check = () => {
        if (!tail.includes(marker)) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      };
      waiters.add(check);
    }),
  };
}

/** Samples `pid`'s RSS every 200 ms while `work` runs; returns the work's value and the peak. */
async function sampled<T>(pid: number, work: () => Promise<T>): Promise<{ value: T; peakMb: number; samples: number[] }> {
  const samples: number[] = [];
  const timer = setInterval(() => void rssMb(pid).then((mb) => samples.push(mb), () => {}), 200);
  try {
    const value = await work();
    return { value, peakMb: Math.max(...samples, 0), samples };
  } finally {
    clearInterval(timer);
  }
}

const lines: string[] = [];
const out = (line = '') => {
  lines.push(line);
  process.stderr.write(line + '\n');
};

try {
  const fleet = await startFleet(t);
  const token = (await readFile(path.join(fleet.dataDir, 'initial-admin-token'), 'utf8')).trim();
  const agent = await enrolledAgent(t, fleet, 'bench-console', 'fabrikam/lab-linux');
  const running = agent.start(['agent'], { HOME: agent.home });
  cleanups.push(() => running.child.kill('SIGKILL'));
  await running.waitFor(/"msg":"iteration finished"/, 60_000);
  const serverPid = fleet.server.pid;
  const idleMb = await rssMb(serverPid);

  // 1. an operator that reads everything
  const fast = await openSession(fleet.url, token, 'bench-console');
  const startedAt = performance.now();
  const relayed = await sampled(serverPid, async () => {
    // the marker is computed by the shell, so the echo of the typed line does not match it
    fast.type(`head -c ${megabytes * 1_000_000} /dev/zero | base64 -w 0; echo; echo FAST-$((20+22))-DONE\r`);
    await fast.waitFor('FAST-42-DONE\r\n', 600_000);
    return (performance.now() - startedAt) / 1000;
  });
  const fastBytes = fast.received();
  fast.socket.close();

  // 2. an operator that stops reading while the shell writes without end
  const slow = await openSession(fleet.url, token, 'bench-console');
  slow.type('base64 /dev/zero\r');
  await new Promise((resolve) => setTimeout(resolve, 500));
  (slow.socket as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
  const beforeStall = slow.received();
  const stalled = await sampled(serverPid, () => new Promise<void>((resolve) => setTimeout(resolve, stallSeconds * 1000)));
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  const firstHalf = median(stalled.samples.slice(0, Math.ceil(stalled.samples.length / 2)));
  const secondHalf = median(stalled.samples.slice(Math.ceil(stalled.samples.length / 2)));
  (slow.socket as unknown as { _socket: { resume(): void } })._socket.resume();
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const alive = slow.socket.readyState === WebSocket.OPEN && slow.received() > beforeStall;
  slow.type('\x03');
  slow.socket.close();

  out('## Remote console');
  out();
  out(`Command: \`npm run bench:remote-console\` (\`node bench/remote-console.ts --megabytes ${megabytes} --stall ${stallSeconds}\`): a real pswm-server (PostgreSQL 15 on the same machine) and a real \`pswm agent\` with node-pty, operators on the console WebSocket.`);
  out(`Machine: ${os.cpus()[0]?.model.trim()}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}, ${os.type()} ${os.release()}, load average ${os.loadavg()[0].toFixed(1)} when it finished.`);
  out();
  out('| measurement | value |');
  out('|---|---|');
  out(`| server RSS, idle with the agent connected (baseline) | ${idleMb.toFixed(1)} MB |`);
  out(`| operator reading everything: \`head -c ${megabytes}MB /dev/zero \\| base64\` relayed | ${(fastBytes / 1e6).toFixed(1)} MB in ${relayed.value.toFixed(1)} s (${(fastBytes / 1e6 / relayed.value).toFixed(1)} MB/s) |`);
  out(`| server RSS peak while relaying it | ${relayed.peakMb.toFixed(1)} MB |`);
  out(`| operator not reading for ${stallSeconds} s while the shell runs \`base64 /dev/zero\` | server RSS ${Math.min(...stalled.samples).toFixed(1)}–${stalled.peakMb.toFixed(1)} MB; median ${firstHalf.toFixed(1)} MB in the first half, ${secondHalf.toFixed(1)} MB in the second |`);
  out(`| bytes the stalled operator had received when it stopped reading, and 2 s after it read again | ${(beforeStall / 1e6).toFixed(2)} MB → ${(slow.received() / 1e6).toFixed(2)} MB |`);
  out(`| the stalled session afterwards | ${alive ? 'still open: output resumed once the operator read again (the agent had paused the PTY)' : 'ended'} |`);
  out();
  process.stdout.write(lines.join('\n') + '\n');
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup();
}

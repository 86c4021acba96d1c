// When a fleet-wide message reached each simulated agent's socket, from a packet capture on the
// loopback interface. The simulators timestamp a message when their JavaScript reads it; on this
// bench's one machine they read only once the servers, PostgreSQL and the other simulators leave
// them a core (SCHED_IDLE), so their read time holds the test bed's contention as well as the
// server's delivery. A real agent is its own machine and reads a frame as it arrives. The capture
// times each frame in the kernel as the server's write hands it to the loopback device, whose
// receive path then queues it on the agent's socket, normally in the same system call: the moment it
// left the server for the agent, whatever the simulators do next. tcpdump (Debian package tcpdump,
// CAP_NET_RAW) does the capturing; the parsing below is pure.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/** A capture running. stop() waits until what it wrote holds what `complete` looks for (at most
 * DRAIN_WITHIN_MS), then ends it and reads the file. */
export interface Capture {
  stop(complete: (file: Buffer) => boolean): Promise<{ file: Buffer; dropped: number }>;
}

const STARTED_WITHIN_MS = 10_000;
/** tcpdump drops what it has not yet read from the kernel's buffer when it is stopped, and writes its
 * file through a buffer: stop() asks it to flush (SIGUSR2) every DRAIN_CHECK_MS and reads the file
 * until it is complete. It reads the kernel's buffer a block at a time (a block is handed over when
 * full or after a second), so that the capture wakes it rarely on the measured path. */
const DRAIN_CHECK_MS = 250;
const DRAIN_WITHIN_MS = 30_000;
/** Ethernet, and Linux "cooked" capture: the link-layer header before the IP packet. */
const LINK_HEADER: Record<number, number> = { 1: 14, 113: 16, 276: 20 };

/**
 * Captures, on `lo`, the segments sent from `ports` whose payload opens with a final text frame
 * (0x81: what a server sends a signal as), into `file`. Run under SCHED_IDLE: the kernel timestamps
 * each packet as it is captured, so tcpdump only has to drain its buffer later, off the measured path.
 * Rejects with why it could not start (no tcpdump, no permission).
 */
export async function startCapture(ports: number[], file: string): Promise<Capture> {
  const filter = `tcp and (${ports.map((port) => `src port ${port}`).join(' or ')}) and tcp[((tcp[12:1] & 0xf0) >> 2):1] = 0x81`;
  const child = spawn('chrt', ['--idle', '0', 'tcpdump', '-i', 'lo', '-n', '-B', '65536', '-s', '256', '-w', file, filter], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  let ended = false;
  const exited = new Promise<number | null>((resolve) => {
    child.once('error', (error) => {
      stderr += error.message;
      resolve(null);
    });
    child.once('exit', (code) => {
      ended = true;
      resolve(code);
    });
  });
  const started = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), STARTED_WITHIN_MS);
    child.stderr.on('data', () => {
      if (/listening on/.test(stderr)) {
        clearTimeout(timer);
        resolve(true);
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      resolve(false);
    });
  });
  if (!started) {
    child.kill('SIGKILL');
    throw new Error(`tcpdump did not start: ${stderr.trim().split('\n').at(-1) || 'no output'}`);
  }
  return {
    async stop(complete) {
      const deadline = Date.now() + DRAIN_WITHIN_MS;
      // a tcpdump that ended on its own (its error is in stderr) has written all it will
      while (!ended && Date.now() < deadline) {
        child.kill('SIGUSR2');
        await sleep(DRAIN_CHECK_MS);
        if (complete(await readFile(file))) break;
      }
      child.kill('SIGINT');
      const code = await exited;
      if (code !== 0 && code !== null) throw new Error(`tcpdump exited with ${code}: ${stderr.trim().split('\n').at(-1)}`);
      return { file: await readFile(file), dropped: Number(/(\d+) packets? dropped by kernel/.exec(stderr)?.[1] ?? 0) };
    },
  };
}

/**
 * Each connection's first captured segment carrying `marker`, as whole milliseconds after `sinceMs`
 * (epoch ms), one per pair of ports (an agent's port number can be reused towards another server):
 * the arrival of one message at each agent. Reads a little-endian pcap file (tcpdump's own on Linux)
 * with microsecond or nanosecond timestamps, IPv4 over Ethernet or Linux cooked capture.
 */
export function firstArrivals(pcap: Buffer, marker: string, sinceMs: number): number[] {
  const magic = pcap.length >= 24 ? pcap.readUInt32LE(0) : 0;
  const nanoseconds = magic === 0xa1b23c4d;
  if (magic !== 0xa1b2c3d4 && !nanoseconds) throw new Error('not a little-endian pcap file');
  const linkHeader = LINK_HEADER[pcap.readUInt32LE(20)];
  if (linkHeader === undefined) throw new Error(`a pcap of link type ${pcap.readUInt32LE(20)}, not Ethernet or Linux cooked`);
  const wanted = Buffer.from(marker);
  const arrivals = new Map<number, number>();
  for (let at = 24; at + 16 <= pcap.length; ) {
    const ms = pcap.readUInt32LE(at) * 1000 + pcap.readUInt32LE(at + 4) / (nanoseconds ? 1e6 : 1e3);
    const start = at + 16;
    at = start + pcap.readUInt32LE(at + 8);
    const ip = start + linkHeader;
    if (at > pcap.length || ip >= at || pcap[ip] >> 4 !== 4) continue;
    const tcp = ip + (pcap[ip] & 0x0f) * 4;
    const payload = pcap.subarray(tcp + (pcap[tcp + 12] >> 4) * 4, at);
    const connection = pcap.readUInt32BE(tcp); // source and destination port
    if (ms >= sinceMs && !arrivals.has(connection) && payload.includes(wanted)) arrivals.set(connection, Math.round(ms - sinceMs));
  }
  return [...arrivals.values()];
}

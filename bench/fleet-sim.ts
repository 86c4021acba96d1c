// The coordinator's side of the simulated agents (bench/fleet-agents.ts): fork a simulator process,
// send it commands over IPC and gather its raw samples. Shared by the fleet and retention benchmarks.
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FleetCommand, FleetEvent, SimStats } from './fleet-protocol.ts';
import { mergeStats } from './fleet-stats.ts';

const SIM = fileURLToPath(new URL('./fleet-agents.ts', import.meta.url));
const progress = (line: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface Sim {
  pid: number;
  request(command: FleetCommand, answer: FleetEvent['type']): Promise<FleetEvent>;
  stop(): Promise<void>;
}

/** How the simulator is scheduled beside the servers it measures: a nice value (0–19), or `idle`
 * (SCHED_IDLE: it runs only on a core nothing else wants, and any other thread that wakes takes the
 * core from it at once, as if the simulated machines were elsewhere). Set by starting the process
 * under nice(1) or chrt(1) so that every thread has it: setpriority() on a pid changes that one
 * thread on Linux, and the process's V8 and libuv threads (its garbage collector's among them) kept
 * the servers' priority. */
export type SimPriority = number | 'idle';

/** `nodeOptions`: more node flags, e.g. to profile a simulator. */
export async function startSim(priority: SimPriority = 0, nodeOptions: string[] = []): Promise<Sim> {
  const node = [process.execPath, '--max-old-space-size=4096', ...nodeOptions];
  const scheduled = priority === 'idle' ? ['chrt', '--idle', '0', ...node] : priority ? ['nice', '-n', String(priority), ...node] : node;
  const [execPath, ...execArgv] = scheduled;
  const child: ChildProcess = fork(SIM, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execPath, execArgv });
  const waiting: Array<{ type: FleetEvent['type']; resolve(event: FleetEvent): void; reject(error: Error): void }> = [];
  child.on('message', (event: FleetEvent) => {
    if (event.type === 'progress') return progress(`  simulator ${child.pid}: ${event.done} enrolled, ${event.failed} failed`);
    if (event.type === 'failed') {
      for (const w of waiting.splice(0)) w.reject(new Error(`simulator ${child.pid}: ${event.message}`));
      return;
    }
    const index = waiting.findIndex((w) => w.type === event.type);
    if (index >= 0) waiting.splice(index, 1)[0].resolve(event);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => {
    for (const w of waiting.splice(0)) w.reject(new Error(`simulator ${child.pid} exited`));
    resolve();
  }));
  await new Promise<void>((resolve) => child.once('message', () => resolve()));
  return {
    pid: child.pid!,
    request(command, answer) {
      return new Promise((resolve, reject) => {
        waiting.push({ type: answer, resolve, reject });
        child.send(command);
      });
    },
    async stop() {
      if (child.exitCode !== null) return;
      child.send({ type: 'stop' });
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

export async function takeStats(sims: Sim[]): Promise<SimStats> {
  const events = await Promise.all(sims.map((sim) => sim.request({ type: 'take-stats' }, 'stats')));
  return mergeStats(events.map((e) => (e.type === 'stats' ? e.stats : mergeStats([]))));
}

/** Takes stats every 250 ms until `done` holds for everything gathered, or the time is up. */
export async function collect(sims: Sim[], done: (stats: SimStats) => boolean, timeoutMs: number): Promise<SimStats> {
  const deadline = Date.now() + timeoutMs;
  let gathered = mergeStats([]);
  while (Date.now() < deadline) {
    await sleep(250);
    gathered = mergeStats([gathered, await takeStats(sims)]);
    if (done(gathered)) break;
  }
  return gathered;
}

export { freePort } from '../server/test/support/free-port.ts';

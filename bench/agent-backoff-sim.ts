// A fleet of agents against a server that is down, on a simulated clock: each agent has the real
// ServerBackoff (agent/src/api/server-backoff.ts) and the callers the running agent has — the
// background sender (waits for its turn, then probes), heartbeats (sent only when the backoff lets
// them through, else skipped), iterations (desired state likewise; their new report is one more
// pass for the sender) and the WebSocket (its own jittered delay, then its turn). Every call that
// would reach the server counts as an attempt and fails while the outage lasts.
import { backoffDelayMs, createServerBackoff, type BackoffPolicy } from '../agent/src/api/server-backoff.ts';
import type { Timers } from '../agent/src/loop/scheduler.ts';

export interface SimulationOptions {
  agents: number;
  outageMs: number;
  policy: BackoffPolicy;
  heartbeatMs: number;
  intervalMs: number;
  /** Random source per agent (seeded for a repeatable run); () => 1 is a fleet without jitter. */
  randomFor: (agent: number) => () => number;
}

export interface SimulationResult {
  /** Attempts per agent during the outage. */
  attempts: number[];
  /** When each agent's first call after the outage reached the server (ms after it ended). */
  returnMs: number[];
}

/** mulberry32: a small seeded generator, so two runs draw the same delays. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Timers on one shared simulated clock, fired in time order. */
function simulatedClock() {
  let now = 0;
  let sequence = 0;
  const queue = new Map<number, { at: number; order: number; callback: () => void }>();
  const timers: Timers = {
    setTimeout(callback, ms) {
      const id = ++sequence;
      queue.set(id, { at: now + Math.max(0, ms), order: id, callback });
      return id;
    },
    clearTimeout: (handle) => void queue.delete(handle as number),
  };
  const flush = () => new Promise((resolve) => setImmediate(resolve));
  return {
    now: () => now,
    timers,
    /** Fires timers in order until `untilMs`, letting the promise chains they start run between. */
    async runUntil(untilMs: number) {
      await flush();
      for (;;) {
        let next: [number, { at: number; order: number; callback: () => void }] | undefined;
        for (const entry of queue) if (!next || entry[1].at < next[1].at || (entry[1].at === next[1].at && entry[1].order < next[1].order)) next = entry;
        if (!next || next[1].at > untilMs) break;
        queue.delete(next[0]);
        now = next[1].at;
        next[1].callback();
        await flush();
      }
      now = untilMs;
    },
  };
}

/** Agents do not interact while the server is down: each is simulated on its own clock. */
export async function simulateOutage(opts: SimulationOptions): Promise<SimulationResult> {
  const attempts: number[] = [];
  const returnMs: number[] = [];
  for (let agent = 0; agent < opts.agents; agent++) {
    const one = await simulateAgent(opts, opts.randomFor(agent));
    attempts.push(one.attempts);
    returnMs.push(one.returnMs);
  }
  return { attempts, returnMs };
}

async function simulateAgent(opts: SimulationOptions, random: () => number): Promise<{ attempts: number; returnMs: number }> {
  const clock = simulatedClock();
  const attempts = [0];
  const returnMs = [Number.NaN];
  const stop = new AbortController();
  const agent = 0;
  {
    const backoff = createServerBackoff({ policy: opts.policy, random, now: clock.now, timers: clock.timers });
    /** One call to the server: fails during the outage, answers after it. */
    const contact = () => {
      if (clock.now() < opts.outageMs) {
        attempts[agent]++;
        backoff.failed();
        return false;
      }
      if (Number.isNaN(returnMs[agent])) returnMs[agent] = clock.now() - opts.outageMs;
      backoff.succeeded();
      return true;
    };
    // the sender: a report waits in the outbox from the start of the outage
    let senderBusy = false;
    const sender = async () => {
      if (senderBusy) return;
      senderBusy = true;
      try {
        for (;;) {
          await backoff.whenOpen(stop.signal);
          if (backoff.tryAcquire() && contact()) break;
        }
      } catch {
        // simulation over
      }
      senderBusy = false;
    };
    const every = (periodMs: number, firstMs: number, call: () => void) => {
      const tick = () => {
        call();
        clock.timers.setTimeout(tick, periodMs);
      };
      clock.timers.setTimeout(tick, firstMs);
    };
    every(opts.heartbeatMs, random() * opts.heartbeatMs, () => {
      if (backoff.tryAcquire()) contact();
    });
    every(opts.intervalMs, random() * opts.intervalMs, () => {
      if (backoff.tryAcquire()) contact();
      void sender();
    });
    // the WebSocket was lost when the server went down: its own delay, then its turn
    let wsAttempt = 0;
    const reconnect = () => {
      clock.timers.setTimeout(async () => {
        try {
          do await backoff.whenOpen(stop.signal);
          while (!backoff.tryAcquire());
        } catch {
          return;
        }
        if (!contact()) reconnect();
      }, backoffDelayMs(wsAttempt++, 1000, 60_000, random));
    };
    reconnect();
    void sender();
  }
  await clock.runUntil(opts.outageMs + Math.max(opts.policy.maxMs, 60_000) + opts.heartbeatMs);
  stop.abort();
  await new Promise((resolve) => setImmediate(resolve));
  return { attempts: attempts[0], returnMs: returnMs[0] };
}

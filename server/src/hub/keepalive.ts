// The keepalive sweep, spread over its interval. Pinging every socket in one timer callback stalls
// the event loop in proportion to the fleet (15,000 sockets: 0.6–2.7 s, and a bare `ws` server doing
// the same sweep stalls as long, so the cost is the sweep's shape, not our code). Instead each tick
// visits the next slice of the connections, round-robin, so every connection is still visited once
// per interval and no tick does more than its share.

export interface SpreadSweep {
  /** One tick's slice; the timer calls it, tests call it directly. */
  tick(): void;
  stop(): void;
}

export interface SpreadSweepOptions {
  intervalMs: number;
  /** How often a slice runs; the slice is the share of the connections that falls on one tick. */
  tickMs: number;
}

export function spreadSweep<T>(items: Map<unknown, T>, visit: (item: T) => void, options: SpreadSweepOptions): SpreadSweep {
  const ticksPerInterval = Math.max(1, Math.round(options.intervalMs / options.tickMs));
  // A Map iterator sees entries added behind the cursor and skips deleted ones, so connections
  // that come and go between ticks need no bookkeeping here.
  let cursor = items.values();
  let ticksInPass = 0;
  let passDone = false;
  const tick = () => {
    // A new pass starts only once the last one is done AND a whole interval of ticks has gone by:
    // a small fleet is not pinged more often than once per interval (the dead-socket rule counts on it).
    if (passDone && ticksInPass >= ticksPerInterval) {
      cursor = items.values();
      ticksInPass = 0;
      passDone = false;
    }
    ticksInPass++;
    if (passDone) return;
    let budget = Math.ceil(items.size / ticksPerInterval);
    while (budget-- > 0) {
      const next = cursor.next();
      if (next.done) {
        passDone = true;
        return;
      }
      visit(next.value);
    }
  };
  const timer = setInterval(tick, Math.min(options.tickMs, options.intervalMs)).unref();
  return { tick, stop: () => clearInterval(timer) };
}

// The messages between `bench/fleet.ts` (the coordinator) and its simulated-agent processes.

/** The simulated agents' reconnect backoff: full jitter, 1 s doubling to 60 s, as the agent's own. */
export const RECONNECT_BASE_MS = 1000;
export const RECONNECT_MAX_MS = 60_000;
/** An upgrade not answered within this long is given up and retried, as the agent's wake socket does. */
export const HANDSHAKE_TIMEOUT_MS = 30_000;
/** The simulated agents' shared server backoff (agent/src/api/server-backoff.ts): the same 1 s to
 * 60 s, as a fleet whose policy sets reporting.retry_base_seconds 1 and retry_max_seconds 60, so
 * that 60 s is the reconnect window the herd is measured against. */
export const SERVER_BACKOFF = { baseMs: RECONNECT_BASE_MS, maxMs: RECONNECT_MAX_MS };

/** The reason of the bare `ws` servers' broadcast (bench/fleet-baseline.ts), as a signal's. */
export const BASELINE_REASON = 'baseline broadcast';

export interface SimSettings {
  pollSeconds: number;
  heartbeatSeconds: number;
  /** A report every this many iterations (the first iteration's carries the facts). */
  reportEvery: number;
}

export type FleetCommand =
  | { type: 'enrol'; agents: { name: string; code: string; origin: string }[]; settings: SimSettings; concurrency: number }
  | { type: 'connect'; concurrency: number }
  | { type: 'count-connected' }
  | { type: 'baseline-connect'; url: string; count: number; concurrency: number }
  | { type: 'baseline-close' }
  | { type: 'take-stats' }
  | { type: 'stop' };

export interface SimStats {
  /** endpoint (with " 304" for not-modified polls) → request latencies in ms. */
  latencies: Record<string, number[]>;
  /** "endpoint status-or-error-code" → count. */
  errors: Record<string, number>;
  /** `reconcile` messages received: wall-clock ms. */
  signals: { agent: string; at: number; reason: string }[];
  /** Polls that fetched a new document (a changed ETag): wall-clock ms. */
  documentChanges: { agent: string; at: number }[];
  /** Messages received on baseline sockets: wall-clock ms. */
  baselineMessages: number[];
  /** The poll each `reconcile` message started: the message's reason, the poll's answer (a status,
   * "skipped" by the backoff, or an error code) and how long after the message it came. */
  wakePolls?: { reason: string; outcome: string; ms: number }[];
  /** WebSocket opens: when, and how long the upgrade took. */
  connects: { at: number; ms: number }[];
  /** Calls not sent because the agent was backing off from a failing server (as the agent skips them). */
  skipped?: number;
  /** The simulator's own event-loop delay since the last take (max over simulators when merged): a
   * simulator short of CPU times its own wait into every latency it records. */
  loopDelay?: { p99Ms: number; maxMs: number };
}

export type FleetEvent =
  | { type: 'ready' }
  | { type: 'progress'; done: number; failed: number }
  | { type: 'enrolled'; count: number; failed: number }
  | { type: 'connected'; count: number; /** A few agents that are not, and where each one's reconnect is. */ stuck?: string[] }
  | { type: 'closed' }
  | { type: 'stats'; stats: SimStats }
  | { type: 'stopped' }
  | { type: 'failed'; message: string };

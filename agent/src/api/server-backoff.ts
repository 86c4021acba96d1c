// One backoff per server, shared by everything in the agent that contacts it (reports, desired
// state, heartbeats, token requests, the WebSocket). While the server fails, one probe at a time
// goes out after a capped exponential delay with full jitter, never before the server's own
// Retry-After; only an answer from the server ends the backoff. Kicks, signals and new reports
// cannot shorten it: they wait like everyone else. This is what keeps a fleet from storming a
// server that is down, and spreads its return (each agent probes at its own random moment).
import type { Timers } from '../loop/scheduler.ts';

export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

/** Until the first desired state says otherwise: reporting.retry_base_seconds / retry_max_seconds'
 * schema defaults. */
export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 5_000, maxMs: 900_000 };

/** A Retry-After longer than this is taken as this (a misconfigured proxy must not silence an
 * agent for days). */
export const MAX_RETRY_AFTER_MS = 3_600_000;

/** "Full jitter" (AWS Architecture Blog, "Exponential Backoff And Jitter"): a uniform delay in
 * [0, min(max, base·2^attempt)), so agents that lost the server together do not return together. */
export function backoffDelayMs(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  return Math.floor(random() * Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 52)));
}

/** The delay before the next probe after `failures` failures in a row: the jittered backoff, but
 * never shorter than what the server asked for. */
export function nextProbeDelayMs(failures: number, policy: BackoffPolicy, random: () => number, retryAfterMs = 0): number {
  return Math.max(backoffDelayMs(failures - 1, policy.baseMs, policy.maxMs, random), Math.min(retryAfterMs, MAX_RETRY_AFTER_MS));
}

/** Thrown instead of contacting a server the agent is backing off from. Not an attempt. */
export class BackingOffError extends Error {
  readonly code = 'EPSWM_BACKOFF';
}

export function isBackingOff(error: unknown): boolean {
  return error instanceof BackingOffError;
}

export interface ServerBackoff {
  /** The right to contact the server now: true while it answers, or for the one probe once the
   * backoff has passed. */
  tryAcquire(): boolean;
  /** Resolves when tryAcquire() would say yes (it does not take the right itself); rejects when
   * `signal` aborts. */
  whenOpen(signal?: AbortSignal): Promise<void>;
  /** The server answered (any status it means: 2xx, 3xx, 4xx). */
  succeeded(): void;
  /** The server could not be reached or answered 5xx/429/408; `retryAfterMs` from its header. */
  failed(retryAfterMs?: number): void;
  /** New base and cap (from the reporting settings); the running delay is kept. */
  configure(policy: BackoffPolicy): void;
  /** Milliseconds until the next probe may go out; 0 when the server is answering. */
  waitMs(): number;
  failures(): number;
}

export interface ServerBackoffOptions {
  policy?: BackoffPolicy;
  random?: () => number;
  now?: () => number;
  timers?: Timers;
  /** Told each time a backoff starts or grows (for the log). */
  onBackoff?: (delayMs: number, failures: number) => void;
}

const defaultTimers: Timers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export function createServerBackoff(opts: ServerBackoffOptions = {}): ServerBackoff {
  const random = opts.random ?? Math.random;
  const now = opts.now ?? Date.now;
  const timers = opts.timers ?? defaultTimers;
  let policy = opts.policy ?? DEFAULT_BACKOFF;
  let failures = 0;
  let notBeforeMs = 0;
  let probing = false;
  const waiters = new Set<() => void>();

  const isOpen = () => failures === 0 || (!probing && now() >= notBeforeMs);
  const wakeWaiters = () => {
    for (const wake of [...waiters]) wake();
  };

  return {
    tryAcquire() {
      if (failures === 0) return true;
      if (!isOpen()) return false;
      probing = true;
      return true;
    },
    whenOpen(signal) {
      return new Promise<void>((resolve, reject) => {
        let timer: unknown;
        const done = (error?: Error) => {
          waiters.delete(check);
          if (timer !== undefined) timers.clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          if (error) reject(error);
          else resolve();
        };
        const onAbort = () => done(signal!.reason instanceof Error ? signal!.reason : new Error('aborted'));
        // re-checked when a probe settles and when the backoff passes
        function check() {
          if (timer !== undefined) timers.clearTimeout(timer);
          timer = undefined;
          if (isOpen()) return done();
          if (!probing) timer = timers.setTimeout(check, Math.max(1, notBeforeMs - now()));
        }
        if (signal?.aborted) return onAbort();
        signal?.addEventListener('abort', onAbort, { once: true });
        waiters.add(check);
        check();
      });
    },
    succeeded() {
      probing = false;
      if (failures === 0) return;
      failures = 0;
      notBeforeMs = 0;
      wakeWaiters();
    },
    failed(retryAfterMs) {
      probing = false;
      failures++;
      const delay = nextProbeDelayMs(failures, policy, random, retryAfterMs);
      notBeforeMs = Math.max(notBeforeMs, now() + delay);
      opts.onBackoff?.(notBeforeMs - now(), failures);
      wakeWaiters();
    },
    configure(next) {
      policy = next;
    },
    waitMs: () => (failures === 0 ? 0 : Math.max(0, notBeforeMs - now())),
    failures: () => failures,
  };
}

// The background sender of the long-running agent: drains the outbox with backoff, one pass at a
// time. A kick during a pass asks for one more pass and cuts the current backoff short (the server
// just came back, or a new report is waiting).
import { setTimeout as delay } from 'node:timers/promises';
import type { DeliveryResult } from '../report/deliver.ts';

export interface Sender {
  kick(): void;
  stop(): Promise<void>;
}

export function createSender(pass: (sleep: (ms: number) => Promise<void>, shouldStop: () => boolean) => Promise<DeliveryResult>, onResult: (result: DeliveryResult) => void): Sender {
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  let hurry = new AbortController();
  const stopping = new AbortController();

  const sleep = async (ms: number) => {
    const signal = AbortSignal.any([hurry.signal, stopping.signal]);
    await delay(ms, undefined, { signal }).catch(() => {});
    // ends sendWithRetry's loop: with retry_max_attempts 0 it would otherwise never give up
    if (stopping.signal.aborted) throw new Error('agent stopping');
  };
  const loop = async () => {
    do {
      again = false;
      hurry = new AbortController();
      try {
        onResult(await pass(sleep, () => stopped));
      } catch {
        // a pass that throws (disk error) is retried on the next kick
      }
    } while (again && !stopped);
    running = undefined;
  };
  return {
    kick() {
      if (stopped) return;
      if (running) {
        again = true;
        hurry.abort();
        return;
      }
      running = loop();
    },
    async stop() {
      stopped = true;
      stopping.abort();
      await running;
    },
  };
}

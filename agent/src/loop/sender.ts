// The background sender of the long-running agent: drains the outbox one pass at a time. A pass
// waits for its turn at the server (the shared backoff) as long as it needs; a kick during a pass
// (a new report, the server reachable again) only asks for one more pass after it. It never cuts
// the wait short: that is the server backoff's job alone, so no burst of kicks becomes a burst of
// requests.
import type { DeliveryResult } from '../report/deliver.ts';

export interface Sender {
  kick(): void;
  stop(): Promise<void>;
}

/** `pass` gets a signal that aborts when the agent stops (end any wait then). */
export function createSender(pass: (stopping: AbortSignal) => Promise<DeliveryResult>, onResult: (result: DeliveryResult) => void): Sender {
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  const stopping = new AbortController();

  const loop = async () => {
    do {
      again = false;
      try {
        onResult(await pass(stopping.signal));
      } catch {
        // a pass that throws (disk error, stopping) is retried on the next kick
      }
    } while (again && !stopped);
    running = undefined;
  };
  return {
    kick() {
      if (stopped) return;
      if (running) again = true;
      else running = loop();
    },
    async stop() {
      stopped = true;
      stopping.abort(new Error('agent stopping'));
      await running;
    },
  };
}

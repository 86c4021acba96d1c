// After an apply, every instance must know which agents' documents changed before any of those agents
// is woken: a woken agent answered from a map that had not heard of its change gets a 304 for its old
// document (document-map.ts). Both go out in one bus round trip, the change first: one transaction's
// notifications arrive everywhere in the order they were sent, and this instance has both at once.
// As two publishes one after the other, a commit's wake-up waited for two NOTIFY round trips (~200 ms
// each with PostgreSQL busy: bench:fleet at 30,000 saw 385 ms from an apply's end to the wake-up).
import type { Bus } from '../hub/bus.ts';
import { signalMessages } from '../hub/publish-signal.ts';
import { documentChangeMessages } from './document-map.ts';

export function announceChanges(bus: Pick<Bus, 'publishAll'>) {
  return (changedAgents: string[], reason: string): Promise<void> =>
    bus.publishAll([...documentChangeMessages(changedAgents), ...(changedAgents.length ? signalMessages(changedAgents, reason) : [])]);
}

// Waking agents is one bus message per slice of their ids: NOTIFY payloads must stay under 8000
// bytes, and a large signal names thousands. A fleet-wide signal names none: it is one message that
// every instance delivers to every socket it holds, in one pass (bench:fleet: 75 slices for 15,000
// agents let the polls of the first woken agents delay the wake-up of the rest).
import type { Bus, BusMessage } from './bus.ts';
import { MAX_PAYLOAD_BYTES } from './bus.ts';

/** Wakes these agents, or with 'all' every active agent (revoked and pending agents hold no socket). */
export function publishSignal(bus: Pick<Bus, 'publishAll'>, agentIds: string[] | 'all', reason: string): Promise<void> {
  return bus.publishAll(signalMessages(agentIds, reason));
}

/** The bus messages of a signal: one for 'all', else one per slice of the ids (sent together, in one
 * round trip: one after another, a fleet-wide signal waited for each NOTIFY in turn). */
export function signalMessages(agentIds: string[] | 'all', reason: string): BusMessage[] {
  if (agentIds === 'all') return [{ channel: 'pswm_signal', payload: { all: true, reason } }];
  return chunkAgentIds([...new Set(agentIds)], { reason }).map((chunk) => ({ channel: 'pswm_signal', payload: { agentIds: chunk, reason } }));
}

/** Splits the ids so that each message `{ agentIds: chunk, ...rest }` stays under PostgreSQL's NOTIFY
 * limit (envelope included). */
export function chunkAgentIds(agentIds: string[], rest: object = {}): string[][] {
  // 64: room for the bus's origin id (a 36-character uuid) in the envelope.
  const budget = MAX_PAYLOAD_BYTES - Buffer.byteLength(JSON.stringify({ origin: '', payload: { agentIds: [], ...rest } })) - 64;
  if (budget <= 0) throw new Error('the message leaves no room for agent ids within one bus message');
  const chunks: string[][] = [];
  let chunk: string[] = [];
  let bytes = 0;
  for (const id of agentIds) {
    const size = Buffer.byteLength(JSON.stringify(id)) + 1;
    if (bytes + size > budget && chunk.length) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(id);
    bytes += size;
  }
  if (chunk.length) chunks.push(chunk);
  return chunks;
}

// What the agent sends: reports (stored once per id: 201 the first time, 200 for a re-send) and
// heartbeats (latest metrics; losing one costs nothing, the next replaces it).
import type { HeartbeatMetrics } from '../facts/metrics.ts';
import type { WireReport } from '../report/wire.ts';
import type { AgentSession } from './session.ts';

export async function postReport(session: AgentSession, report: WireReport): Promise<'stored' | 'duplicate'> {
  const { status } = await session.call('POST', '/api/v1/agent/reports', { body: report, expect: [200, 201] });
  return status === 201 ? 'stored' : 'duplicate';
}

export async function postHeartbeat(session: AgentSession, at: Date, metrics: HeartbeatMetrics): Promise<void> {
  await session.call('POST', '/api/v1/agent/heartbeat', { body: { at: at.toISOString(), metrics }, expect: [200, 201, 204] });
}

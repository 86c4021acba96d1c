// What the agent sends: reports (stored once per id: 201 the first time, 200 for a re-send) and
// heartbeats (latest metrics; losing one costs nothing, the next replaces it).
import type { WireReport } from '../report/wire.ts';
import type { AgentSession } from './session.ts';

export async function postReport(session: AgentSession, report: WireReport): Promise<'stored' | 'duplicate'> {
  const { status } = await session.call('POST', '/api/v1/agent/reports', { body: report, expect: [200, 201] });
  return status === 201 ? 'stored' : 'duplicate';
}

export interface HeartbeatMetrics {
  cpu: { usage_percent: number; cores: number; model?: string };
  memory: { total_bytes: number; used_bytes: number };
  disks: Array<{ mount: string; total_bytes: number; used_bytes: number }>;
  gpus?: Array<{ name: string; utilization_percent?: number; memory_total_bytes?: number; memory_used_bytes?: number; temperature_c?: number }>;
}

export async function postHeartbeat(session: AgentSession, at: Date, metrics: HeartbeatMetrics): Promise<void> {
  await session.call('POST', '/api/v1/agent/heartbeat', { body: { at: at.toISOString(), metrics }, expect: [200, 201, 204] });
}

// A heartbeat replaces the agent's latest sample and takes the next slot of its history ring: slot =
// sample number mod the history size, so the history holds the last N samples per agent by
// construction (no pruning job, no deletes), in one statement.
import type postgres from 'postgres';
import type { Heartbeat } from '../../../schemas/src/agent-wire.ts';

export const DEFAULT_METRICS_HISTORY = 1440; // a day at the default heartbeat of 60 s

export async function storeHeartbeat(sql: postgres.Sql, agentId: string, heartbeat: Heartbeat, historySize: number): Promise<void> {
  const metrics = sql.json(heartbeat.metrics as unknown as postgres.JSONValue);
  await sql`
    with latest as (
      insert into agent_metrics_latest as latest (agent_id, at, metrics, samples)
      values (${agentId}, ${heartbeat.at}, ${metrics}, 1)
      on conflict (agent_id) do update
        set at = excluded.at, metrics = excluded.metrics, samples = latest.samples + 1, received_at = now()
      returning samples
    )
    insert into agent_metrics (agent_id, slot, at, metrics)
    select ${agentId}, samples % ${historySize}, ${heartbeat.at}, ${metrics} from latest
    on conflict (agent_id, slot) do update set at = excluded.at, metrics = excluded.metrics`;
}

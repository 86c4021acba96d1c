// What agents send back: POST /agent/reports (results of an iteration, stored once per report id) and
// POST /agent/heartbeat (live metrics). The agent is the one the access token names; bodies never
// name it, so an agent cannot write as another. Authentication runs before the body is read, so a
// stranger's body is never parsed.
import type { FastifyInstance, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type postgres from 'postgres';
import type { LastSeenBatcher } from '../reports/last-seen.ts';
import { createOutputCapResolver, SERVER_OUTPUT_CAPS } from '../reports/output-caps.ts';
import { createHeartbeatWriter, DEFAULT_METRICS_HISTORY } from '../reports/store-heartbeat.ts';
import { storeReport } from '../reports/store-report.ts';
import { OUTPUT_PATH, parseHeartbeat, parseReport } from '../reports/wire-format.ts';
import { apiError } from './errors.ts';

/** The largest report body accepted; advertised to agents in X-Pswm-Report-Limit (desired-state.ts). */
export const REPORT_BODY_LIMIT_BYTES = 4 * 1024 * 1024;
const HEARTBEAT_BODY_LIMIT_BYTES = 64 * 1024;
// Heartbeats (one a minute per agent) log their request lines only at warn: at info, 15,000 agents
// wrote ~8.6 GB of logs a day and the logging took ~19 % of the server's CPU. Failures still log.

interface AgentReportOptions {
  sql: postgres.Sql;
  lastSeen: LastSeenBatcher;
  /** Heartbeats kept per agent (default 1,440: a day at one a minute). */
  metricsHistory?: number;
  cachedDocumentOf?: (agentId: string) => string | undefined;
  /** Called after a stored report changed some of the agent's facts, with their keys. */
  onAgentFacts?: (agentId: string, changedFactKeys: string[]) => void;
}

export async function agentReportRoutes(app: FastifyInstance, opts: AgentReportOptions): Promise<void> {
  const { sql, lastSeen } = opts;
  const storeHeartbeat = createHeartbeatWriter(sql, opts.metricsHistory ?? DEFAULT_METRICS_HISTORY);
  const capsFor = createOutputCapResolver(sql, app.log, opts.cachedDocumentOf);
  const onRequest = app.requireAgent as unknown as onRequestAsyncHookHandler;

  app.post('/agent/reports', { onRequest, bodyLimit: REPORT_BODY_LIMIT_BYTES, config: { repairTextAt: OUTPUT_PATH } }, async (request, reply) => {
    const agent = request.agent!;
    const report = parseReport(jsonBody(request));
    lastSeen.markSeen(agent.agentId);
    const hasOutput = Boolean(report.script_runs?.length || report.choco_runs?.length);
    const caps = hasOutput ? await capsFor(agent) : SERVER_OUTPUT_CAPS;
    const { outcome, changedFacts } = await storeReport(sql, agent.agentId, report, caps);
    if (changedFacts.length) opts.onAgentFacts?.(agent.agentId, changedFacts);
    return reply.code(outcome.stored ? 201 : 200).send(outcome);
  });

  app.post('/agent/heartbeat', { onRequest, bodyLimit: HEARTBEAT_BODY_LIMIT_BYTES, logLevel: 'warn' }, async (request, reply) => {
    const agent = request.agent!;
    const heartbeat = parseHeartbeat(jsonBody(request));
    lastSeen.markSeen(agent.agentId);
    await storeHeartbeat({ agentId: agent.agentId, heartbeat });
    return reply.code(204).send();
  });
}

/** fastify also parses text/plain (into a string); these endpoints take JSON only. */
function jsonBody(request: FastifyRequest): unknown {
  if (typeof request.body === 'string') throw apiError('UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json.');
  return request.body;
}

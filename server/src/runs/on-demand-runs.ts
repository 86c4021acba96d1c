// `pswm-server run`: a Script of the applied revision, now, on the targeted agents it applies to.
// The policy repository is the allowlist: a name that is not a Script of the applied revision is
// refused, and the agent itself only runs what its own document lists. Requests go to the agents
// through the console relay (whichever instance holds their socket); agents that no instance
// delivered to within a few seconds are "not reached", unless the run waits for them to reconnect.
import { randomUUID } from 'node:crypto';
import type postgres from 'postgres';
import { apiError } from '../api/errors.ts';
import { audit } from '../audit.ts';
import { resolveSignalTargets, type SignalTarget } from '../hub/targets.ts';
import type { Logger } from '../logger.ts';
import type { ConsoleRelay, RunMessage } from '../console/relay.ts';
import { insertRun, markNotReached, pendingRunsFor, setTargetStatus, storeResult } from './run-store.ts';
import { batched, AGENT_CALL_BATCH } from '../db/batched.ts';
import { agentsWithScript } from './script-targets.ts';

export interface RunRequest {
  script: string;
  target: SignalTarget;
  reason: string;
  wait: boolean;
  actor: string;
}

export interface RunAccepted {
  id: string;
  script: string;
  revision: string;
  targets: number;
  /** Targeted agents the script does not apply to (by name). */
  not_applicable: string[];
}

export interface OnDemandRuns {
  request(input: RunRequest): Promise<RunAccepted>;
  close(): void;
}

const DELIVERY_WINDOW_MS = 5000;

export function createOnDemandRuns(deps: { sql: postgres.Sql; relay: ConsoleRelay; log: Logger; deliveryWindowMs?: number }): OnDemandRuns {
  const { sql, relay, log } = deps;
  const timers = new Set<NodeJS.Timeout>();

  const start = (agentId: string, run: { id: string; script: string; actor: string; reason: string }) =>
    relay.toAgent(agentId, { type: 'run.start', run: run.id, script: run.script, actor: run.actor, reason: run.reason });

  relay.onRunMessage((agentId, message) => void handle(agentId, message).catch((error) => log.error({ err: error, run: message.run }, 'on-demand run message not stored')));
  async function handle(agentId: string, message: RunMessage) {
    if (message.type === 'run.accepted') return setTargetStatus(sql, message.run, agentId, 'accepted');
    if (message.type === 'run.refused') return setTargetStatus(sql, message.run, agentId, 'refused', message.message);
    const stored = await sql.begin((tx) => storeResult(tx, message.run, agentId, message.result));
    if (!stored) return;
    await audit(sql, {
      actor: `agent:${agentId}`, action: 'script.run.result', target: agentId, outcome: message.result.exit_code === 0 ? 'success' : 'failure',
      details: { run: message.run, script: message.result.script, exit_code: message.result.exit_code, timed_out: message.result.timed_out },
    });
  }

  // an agent (re)connecting here picks up the runs that wait for it; connects close together share
  // one query (a fleet reconnecting after a restart is thousands a second)
  const waitingRuns = batched((agentIds: string[]) => pendingRunsFor(sql, agentIds), AGENT_CALL_BATCH);
  relay.onAgentConnected((agentId) => void waitingRuns(agentId)
    .then((runs) => runs.forEach((run) => start(agentId, run)))
    .catch((error) => log.warn({ err: error }, 'cannot look up waiting on-demand runs')));

  return {
    async request(input) {
      const details = { script: input.script, reason: input.reason, target: input.target, wait: input.wait };
      const refuse = async (error: Error) => {
        await audit(sql, { actor: input.actor, action: 'script.run', target: input.script, outcome: 'failure', details: { ...details, error: error.message } });
        return error;
      };
      const [state] = await sql<{ applied_revision: string | null }[]>`select applied_revision from policy_state`;
      const revision = state?.applied_revision;
      if (!revision) throw await refuse(apiError('CONFLICT', 'No policy revision is applied yet: there is no script to run.'));
      const [script] = await sql`select 1 from policy_objects where kind = 'Script' and id = ${input.script}`;
      if (!script) {
        throw await refuse(apiError('UNKNOWN_SCRIPT', `"${input.script}" is not a Script of the applied revision ${revision.slice(0, 12)}: only scripts in the policy repository can be run.`));
      }
      let agentIds: string[];
      try {
        agentIds = await resolveSignalTargets(sql, input.target);
      } catch (error) {
        throw await refuse(apiError('BAD_REQUEST', (error as Error).message));
      }
      const { applies, notApplicable } = await agentsWithScript(sql, agentIds, input.script);
      const names = notApplicable.length
        ? (await sql<{ name: string }[]>`select name from agents where id = any(${notApplicable}::uuid[]) order by name`).map((row) => row.name)
        : [];
      if (!applies.length) {
        throw await refuse(apiError('BAD_REQUEST', `Script "${input.script}" applies to none of the ${agentIds.length} targeted active agent(s).`));
      }
      const id = randomUUID();
      await sql.begin(async (tx) => {
        await insertRun(tx, { id, script: input.script, revision, actor: input.actor, reason: input.reason, wait: input.wait }, applies);
        await audit(tx, { actor: input.actor, action: 'script.run', target: input.script, outcome: 'success', details: { ...details, run: id, revision, targets: applies.length, not_applicable: names } });
      });
      for (const agentId of applies) start(agentId, { id, script: input.script, actor: input.actor, reason: input.reason });
      if (!input.wait) {
        const timer = setTimeout(() => {
          timers.delete(timer);
          void markNotReached(sql, id).catch((error) => log.warn({ err: error, run: id }, 'cannot mark unreached agents'));
        }, deps.deliveryWindowMs ?? DELIVERY_WINDOW_MS);
        timers.add(timer);
      }
      return { id, script: input.script, revision, targets: applies.length, not_applicable: names };
    },
    close() {
      for (const timer of timers) clearTimeout(timer);
    },
  };
}

// Who an admin's signal wakes: agents by name (or id), by location ("organization/location"), by
// organization, or all of them. Only active agents: pending ones have no socket, revoked ones must not
// be woken.
import type { Queryable } from '../db/database.ts';
import { audit } from '../audit.ts';
import { UUID } from '../auth/tokens.ts';

export interface SignalTarget {
  agents?: string[];
  /** "organization/location" */
  locations?: string[];
  organizations?: string[];
  all?: boolean;
}


export function isEmptyTarget(target: SignalTarget): boolean {
  return !target.all && !target.agents?.length && !target.locations?.length && !target.organizations?.length;
}

/** "org/loc" → its parts; the organization is everything before the first slash. */
export function parseLocation(text: string): { organization: string; location: string } | undefined {
  const slash = text.indexOf('/');
  if (slash <= 0 || slash === text.length - 1) return undefined;
  return { organization: text.slice(0, slash), location: text.slice(slash + 1) };
}

export async function resolveSignalTargets(sql: Queryable, target: SignalTarget): Promise<string[]> {
  if (isEmptyTarget(target)) return [];
  const agents = target.agents ?? [];
  const ids = agents.filter((agent) => UUID.test(agent));
  const locations = (target.locations ?? []).map((text) => {
    const parsed = parseLocation(text);
    if (!parsed) throw new Error(`"${text}" is not a location: expected "organization/location"`);
    return parsed;
  });
  const rows = await sql<{ id: string }[]>`
    select id from agents
    where status = 'active' and (
      ${Boolean(target.all)}
      or name = any(${agents}::text[])
      or id = any(${ids}::uuid[])
      or organization = any(${target.organizations ?? []}::text[])
      or (organization, location) in (
        select * from unnest(${locations.map((l) => l.organization)}::text[], ${locations.map((l) => l.location)}::text[])))
    order by id`;
  return rows.map((row) => row.id);
}

/**
 * Resolves, wakes and audits: what POST /signal and `pswm-server signal` both do. `wake` is the hub's
 * signalAgents, or a bare bus publish where there is no hub (the CLI).
 */
export async function signalTargets(
  sql: Queryable,
  wake: (agentIds: string[] | 'all', reason: string) => Promise<void>,
  request: { target: SignalTarget; reason: string; actor: string },
): Promise<number> {
  const { target, reason, actor } = request;
  const details = { target, reason };
  try {
    let signalled: number;
    if (target.all) {
      // One bus message whatever the fleet's size (publish-signal.ts), sent before anything is read:
      // resolving every agent's id first (30,000 rows) held up the first delivery ~60 ms.
      await wake('all', reason);
      signalled = await countActiveAgents(sql);
    } else {
      const agentIds = await resolveSignalTargets(sql, target);
      await wake(agentIds, reason);
      signalled = agentIds.length;
    }
    await audit(sql, { actor, action: 'agent.signal', target: describeTarget(target), outcome: 'success', details: { ...details, signalled } });
    return signalled;
  } catch (error) {
    await audit(sql, { actor, action: 'agent.signal', target: describeTarget(target), outcome: 'failure', details: { ...details, error: (error as Error).message } });
    throw error;
  }
}

async function countActiveAgents(sql: Queryable): Promise<number> {
  const [{ count }] = await sql<{ count: number }[]>`select count(*)::int as count from agents where status = 'active'`;
  return count;
}

function describeTarget(target: SignalTarget): string {
  if (target.all) return 'all';
  return [
    ...(target.agents ?? []).map((agent) => `agent:${agent}`),
    ...(target.locations ?? []).map((location) => `location:${location}`),
    ...(target.organizations ?? []).map((organization) => `org:${organization}`),
  ].join(',');
}

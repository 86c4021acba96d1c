// The live fleet behind a plan: which enrolled agents each agent group concerns, read from a pswm
// server's fleet read API (docs/api.md) with a viewer or admin token. The planner stays offline and
// pure; this is the one place the CLI talks to a server.
import type { GroupChange } from '../plan/plan.ts';
import { ANY } from '../plan/groups.ts';
import { InputError } from './policy-input.ts';

interface AgentSummary {
  name: string;
  organization: string;
  location: string;
  status: 'pending' | 'active' | 'revoked';
}

/** Revoked agents never receive policy again, so a change cannot affect them. */
const AFFECTED_STATUSES = new Set(['active', 'pending']);
const PAGE_LIMIT = 5000;

/** For each group, in order, the names of the agents it concerns. An agent is planned in exactly one
 * group: its own when the policy names it (`namedScopes`, every "... agent NAME" scope of
 * plan/groups.ts planGroups, changed or not), otherwise its location's; so a location's change does
 * not list an agent whose override keeps it apart. Throws InputError when the server cannot be read. */
export async function resolveGroupAgents(serverUrl: string, token: string, groups: GroupChange[], namedScopes: string[]): Promise<string[][]> {
  const named = namedScopes.map(parseScope);
  const hasOwnGroup = (agent: AgentSummary) => named.some((scope) => inScope(agent, scope));
  const resolved: string[][] = [];
  // One group at a time: a plan has few groups, and a burst of parallel pages would only load the server.
  for (const group of groups) {
    const scope = parseScope(group.scope);
    const query = new URLSearchParams({ limit: String(PAGE_LIMIT) });
    if (scope.organization !== ANY) query.set('organization', scope.organization);
    if (scope.location !== ANY) query.set('location', scope.location);
    if (scope.agent !== undefined) query.set('q', scope.agent);
    const agents = (await listAgents(serverUrl, token, query)).filter((agent) => AFFECTED_STATUSES.has(agent.status));
    resolved.push(agents.filter((agent) => (scope.agent === undefined ? !hasOwnGroup(agent) : inScope(agent, scope))).map((agent) => agent.name));
  }
  return resolved;
}

interface Scope {
  organization: string;
  location: string;
  agent?: string;
}

function inScope(agent: AgentSummary, scope: Scope): boolean {
  return agent.name === scope.agent && [ANY, agent.organization].includes(scope.organization) && [ANY, agent.location].includes(scope.location);
}

/** Scopes are "org/location" or "org/location agent NAME", with "*" for an unknown part (plan/groups.ts). */
function parseScope(scope: string): Scope {
  const match = /^([^/ ]+)\/([^ ]+)(?: agent (.+))?$/.exec(scope);
  if (!match) throw new Error(`unreachable: unexpected plan group scope "${scope}"`);
  return { organization: match[1], location: match[2], ...(match[3] === undefined ? {} : { agent: match[3] }) };
}

/** Every matching agent, following `nextAfter` across pages. */
async function listAgents(serverUrl: string, token: string, query: URLSearchParams): Promise<AgentSummary[]> {
  const agents: AgentSummary[] = [];
  for (let after: string | undefined; ;) {
    if (after !== undefined) query.set('after', after);
    const page = await getJson<{ agents: AgentSummary[]; nextAfter?: string }>(serverUrl, token, `api/v1/agents?${query}`);
    agents.push(...page.agents);
    if (page.nextAfter === undefined) return agents;
    after = page.nextAfter;
  }
}

/** `pathAndQuery` is relative, so a server behind a path prefix (https://host/pswm) keeps it. */
async function getJson<T>(serverUrl: string, token: string, pathAndQuery: string): Promise<T> {
  const url = new URL(pathAndQuery, serverUrl.endsWith('/') ? serverUrl : `${serverUrl}/`);
  let response: Response;
  try {
    response = await fetch(url, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' } });
  } catch (error) {
    const cause = (error as Error).cause as Error | undefined;
    throw new InputError(`cannot reach pswm server ${serverUrl}: ${cause?.message ?? (error as Error).message}`, { cause: error });
  }
  if (!response.ok) {
    throw new InputError(`pswm server ${serverUrl} answered ${response.status} ${response.statusText} to GET ${url.pathname}${STATUS_HINTS[response.status] ?? ''}`);
  }
  try {
    return (await response.json()) as T;
  } catch (error) {
    throw new InputError(`pswm server ${serverUrl} answered GET ${url.pathname} with a body that is not JSON`, { cause: error });
  }
}

const STATUS_HINTS: Record<number, string> = {
  401: ': the token in PSWM_TOKEN is missing, wrong, expired or revoked',
  403: ': the token in PSWM_TOKEN needs the viewer or admin role',
};

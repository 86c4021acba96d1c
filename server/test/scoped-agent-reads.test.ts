// A one-location commit reads that location's agents (to re-decide them, and their documents before
// and after the write) by index, not by a pass over every agent: at 30,000 agents each such pass was
// ~10 ms of PostgreSQL on a quiet machine, three of them per commit, two inside the apply
// transaction. The plans are checked on a table of 30,000 agents, as the planner sees it then.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agentDocumentsQuery } from '../src/apply/agent-documents.ts';
import { selectionFilter } from '../src/reconcile/enrolled-agents.ts';
import { freshDatabase } from './support/database.ts';

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

function nodesOf(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodesOf)];
}

test('the agents of one location, and one agent\'s own scope, are read by index at 30,000 agents', async (t) => {
  const db = await freshDatabase(t);
  await db.sql`
    insert into agents (name, organization, location, public_key, status, enrolled_at)
    select 'sim-' || i, 'org-' || (i % 4), 'loc-' || (i % 400), 'key', 'active', now() from generate_series(1, 30000) i`;
  await db.sql`analyze agents`;
  const planOf = async (query: ReturnType<typeof agentDocumentsQuery>) => {
    const [row] = await db.sql<Array<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>>`explain (format json) ${query}`;
    return nodesOf(row['QUERY PLAN'][0].Plan);
  };
  const onAgents = (nodes: PlanNode[]) => nodes.filter((node) => node['Relation Name'] === 'agents');

  const documents = await planOf(agentDocumentsQuery(db.sql, { scopes: ['org-1/loc-1', 'org-1/loc-1/sim-401'] }));
  const enrolled = await planOf(db.sql`select a.id from agents a where a.status = 'active' ${selectionFilter(db.sql, { locations: ['org-1/loc-1'], names: ['sim-401'] })}`);
  for (const [what, nodes] of [['documents by scope', documents], ['agents to re-decide', enrolled]] as const) {
    assert.ok(onAgents(nodes).length > 0, `${what}: the plan reads agents`);
    assert.deepEqual(onAgents(nodes).filter((node) => node['Node Type'] === 'Seq Scan'), [], `${what}: no pass over every agent`);
    assert.ok(nodes.some((node) => node['Index Name'] === 'agents_scope_path'), `${what}: the location's agents come from agents_scope_path`);
  }
});

// Trusted facts with a real server: a script selected by trusted.organization and
// trusted.enrollment_method reaches the agent the server knows to match, and not an agent that
// reports those facts about itself (the server drops them from its report).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { createAgentSession } from '../src/api/session.ts';
import { loadAgentKeys } from '../src/identity/key-pair.ts';
import { commitPolicy, enrolledAgent, startFleet } from './support/fleet.ts';

async function sessionOf(home: string, server: string) {
  const config = JSON.parse(await readFile(path.join(home, 'config.json'), 'utf8'));
  return createAgentSession({ server, agentId: config.agent_id, keys: await loadAgentKeys(path.join(home, 'agent.key')) });
}

test('trusted.* facts come from the server; an agent claiming them is not selected', { timeout: 180_000 }, async (t) => {
  const fleet = await startFleet(t);
  const genuine = await enrolledAgent(t, fleet, 'trust-01', 'fabrikam/lab-linux');
  const pretender = await enrolledAgent(t, fleet, 'trust-02', 'contoso/paris');
  await commitPolicy(fleet, {
    'scripts/fabrikam-only.yaml': `apiVersion: pswm/v1
kind: Script
metadata: { name: fabrikam-only }
spec:
  shell: sh
  content: echo fabrikam
  targets:
    facts:
      trusted.organization: fabrikam
      trusted.enrollment_method: token
`,
  }, 'a script for fabrikam agents enrolled by token');

  const claim = await sessionOf(pretender.home, fleet.url);
  const now = new Date().toISOString();
  const facts = { trusted: { organization: 'fabrikam', enrollment_method: 'token' }, 'trusted.organization': 'fabrikam', os: { family: 'linux' } };
  const stored = await claim.call('POST', '/api/v1/agent/reports', { body: { id: crypto.randomUUID(), started_at: now, finished_at: now, dry_run: false, facts } });
  assert.equal(stored.status, 201);
  const keys = await fleet.sql<{ fact_key: string }[]>`select fact_key from agent_facts f join agents a on a.id = f.agent_id where a.name = 'trust-02' order by fact_key`;
  assert.deepEqual(keys.map((k) => k.fact_key), ['os'], 'the claimed trusted facts were dropped');

  const scriptsOf = async (home: string) => {
    const { body } = await (await sessionOf(home, fleet.url)).call('GET', '/api/v1/agent/desired-state');
    return body.scripts.map((s: { name: string }) => s.name);
  };
  assert.ok((await scriptsOf(genuine.home)).includes('fabrikam-only'), 'selected by what the server knows');
  assert.ok(!(await scriptsOf(pretender.home)).includes('fabrikam-only'), 'not selected by what the agent claims');
});

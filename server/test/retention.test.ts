// Pruning history past its retention against real PostgreSQL: small batches, each agent's latest report
// and the newest reconciliation kept, runs and drift going with their report, one pruner at a time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { freshDatabase } from './support/database.ts';
import { pruneOnce, PRUNE_LOCK_KEY } from '../src/retention/prune.ts';
import { retentionRules } from '../src/retention/retention-rules.ts';

const DAY = 86_400_000;
const NOW = new Date('2026-06-01T00:00:00Z');
const daysAgo = (days: number) => new Date(NOW.getTime() - days * DAY);
const RULES = retentionRules({ retentionDays: 30, auditRetentionDays: 365, reconciliationRetentionDays: 90 });

async function seed(sql: Awaited<ReturnType<typeof freshDatabase>>['sql']) {
  const agents = await sql<{ id: string }[]>`
    insert into agents (name, organization, location, status, public_key) values ('busy', 'contoso', 'paris', 'active', 'k'), ('quiet', 'contoso', 'paris', 'active', 'k') returning id`;
  const report = async (agentId: string, age: number) => {
    const id = randomUUID();
    await sql`insert into reports (id, agent_id, started_at, finished_at, dry_run, has_inventory) values (${id}, ${agentId}, ${daysAgo(age)}, ${daysAgo(age)}, false, false)`;
    await sql`insert into script_runs (report_id, id, agent_id, script, sha256, phase, timed_out, stdout, stderr, stdout_truncated, stderr_truncated, duration_ms, started_at)
      values (${id}, ${randomUUID()}, ${agentId}, 's', 'x', 'apply', false, ${'output '.repeat(100)}, '', false, false, 1, ${daysAgo(age)})`;
    await sql`insert into choco_runs (report_id, id, agent_id, operation, package, timed_out, output, output_truncated, reboot_required, duration_ms, started_at)
      values (${id}, ${randomUUID()}, ${agentId}, 'install', 'git', false, '', false, false, 1, ${daysAgo(age)})`;
    await sql`insert into report_drift (report_id, kind, name, status) values (${id}, 'script', 's', 'in_sync')`;
    return id;
  };
  // busy: five old reports and one recent; quiet: only old reports, the newest of which stays.
  for (const age of [90, 80, 70, 60, 40, 1]) await report(agents[0].id, age);
  for (const age of [100, 50]) await report(agents[1].id, age);
  const quietLatest = (await sql`select id from reports where agent_id = ${agents[1].id} order by finished_at desc limit 1`)[0].id;
  for (const age of [400, 380, 10]) {
    await sql`insert into audit_log (at, actor, action, outcome) values (${daysAgo(age)}, 'test', 'x', 'success')`;
  }
  for (const age of [200, 150, 120]) {
    await sql`insert into reconciliations (revision, trigger, status, detail, added, changed, removed, duration_ms, errors, started_at, finished_at)
      values ('r', 'poll', 'no-op', 'm', 0, 0, 0, 1, '[]', ${daysAgo(age)}, ${daysAgo(age)})`;
  }
  return { quietLatest };
}

test('pruning deletes history past its retention in small batches and keeps what readers need', async (t) => {
  const { sql } = await freshDatabase(t);
  const { quietLatest } = await seed(sql);
  const deleted = await pruneOnce(sql, RULES, { batchSize: 2, pauseMs: 0, now: NOW });
  assert.deepEqual(deleted, { reports: 6, reconciliations: 2, audit_log: 2 });

  const reports = await sql`select a.name, extract(day from ${NOW}::timestamptz - r.finished_at)::int as age from reports r join agents a on a.id = r.agent_id order by a.name, age`;
  assert.deepEqual(reports.map((r) => `${r.name}:${r.age}`), ['busy:1', 'quiet:50'], 'an agent\'s latest report is kept whatever its age');
  assert.equal((await sql`select id from reports where agent_id = (select id from agents where name = 'quiet')`)[0].id, quietLatest);
  for (const table of ['script_runs', 'choco_runs', 'report_drift']) {
    const [{ n }] = await sql`select count(*)::int as n from ${sql(table)}`;
    assert.equal(n, 2, `${table} went with their reports`);
  }
  assert.equal((await sql`select count(*)::int as n from audit_log`)[0].n, 1);
  assert.equal((await sql`select count(*)::int as n from reconciliations`)[0].n, 1, 'the newest reconciliation stays, however old');

  assert.deepEqual(await pruneOnce(sql, RULES, { batchSize: 2, pauseMs: 0, now: NOW }), { reports: 0, reconciliations: 0, audit_log: 0 });
});

test('one instance prunes at a time: a round that finds the lock taken leaves the rows to the other', async (t) => {
  const { sql } = await freshDatabase(t);
  await seed(sql);
  const holder = await sql.reserve();
  t.after(() => holder.release());
  await holder`select pg_advisory_lock(${PRUNE_LOCK_KEY})`;
  assert.equal(await pruneOnce(sql, RULES, { batchSize: 2, pauseMs: 0, now: NOW }), undefined);
  assert.equal((await sql`select count(*)::int as n from reports`)[0].n, 8);
  await holder`select pg_advisory_unlock(${PRUNE_LOCK_KEY})`;
  assert.equal((await pruneOnce(sql, RULES, { batchSize: 2, pauseMs: 0, now: NOW }))?.reports, 6);
});

// A fleet for bench:console, written straight into the database (set-based SQL): `count` active
// agents spread over the applied policy's locations, each with a report a day for 14 days (the last
// one applying its location's document, 5 % an older one), drift items (3 % failed, 5 % drifted),
// a heartbeat (3 % with a disk under 10 % free) and an os fact; 10 % not seen for an hour, 2 % for
// ten days.
import type postgres from 'postgres';

export async function seedFleet(sql: postgres.Sql, count: number): Promise<{ agents: number; reports: number; driftRows: number }> {
  await sql`
    with places as (
      select organization, name as location, row_number() over (order by organization, name) - 1 as i, count(*) over () as n from locations
    )
    insert into agents (name, organization, location, public_key, status, enrolled_at, last_seen_at, hostname, facts)
    select format('agent-%s', lpad(g::text, 5, '0')), p.organization, p.location, 'bench', 'active', now() - interval '30 days',
      case when g % 50 = 0 then now() - interval '10 days' when g % 10 = 0 then now() - interval '1 hour' else now() - (g % 300) * interval '1 second' end,
      format('host-%s', g), jsonb_build_object('os', jsonb_build_object('family', case when g % 3 = 0 then 'linux' else 'windows' end))
    from generate_series(1, ${count}) g join places p on p.i = g % p.n`;
  await sql`
    insert into agent_facts (agent_id, fact_key, value, reported_at)
    select id, 'os', facts -> 'os', now() from agents where public_key = 'bench'`;
  // One report a day; day 0 is today's, the applying one.
  await sql`
    insert into reports (id, agent_id, revision, document, started_at, finished_at, dry_run, has_inventory)
    select gen_random_uuid(), a.id, state.applied_revision,
      case when d = 0 and hashtext(a.name) % 20 = 0 then 'old-document' else s.document_sha256 end,
      now() - d * interval '1 day' - interval '5 minutes', now() - d * interval '1 day' - interval '4 minutes', false, false
    from agents a cross join policy_state state cross join generate_series(0, 13) d
    join scope_documents s on s.scope = a.organization || '/' || a.location
    where a.public_key = 'bench'`;
  // What storing each report would have recorded: every agent's last applying report.
  await sql`
    insert into agent_applied_reports (agent_id, report_id, revision, document, finished_at)
    select distinct on (r.agent_id) r.agent_id, r.id, r.revision, r.document, r.finished_at
    from reports r join agents a on a.id = r.agent_id and a.public_key = 'bench'
    order by r.agent_id, r.finished_at desc`;
  await sql`
    insert into report_drift (report_id, kind, name, status, reason)
    select r.id, 'script', 'bench-check',
      case when abs(hashtext(r.id::text)) % 100 < 3 then 'failed' when abs(hashtext(r.id::text)) % 100 < 8 then 'drifted' else 'in_sync' end, null
    from reports r join agents a on a.id = r.agent_id and a.public_key = 'bench'`;
  await sql`
    insert into agent_drift (agent_id, kind, name, status, reason, revision, report_id, reported_at)
    select distinct on (r.agent_id) r.agent_id, d.kind, d.name, d.status, d.reason, r.revision, r.id, r.finished_at
    from reports r join report_drift d on d.report_id = r.id join agents a on a.id = r.agent_id and a.public_key = 'bench'
    order by r.agent_id, r.finished_at desc`;
  await sql`
    insert into agent_metrics_latest (agent_id, at, metrics, samples)
    select id, now(), jsonb_build_object(
      'cpu', jsonb_build_object('usage_percent', 20, 'cores', 4),
      'memory', jsonb_build_object('total_bytes', 8000000000, 'used_bytes', 3000000000),
      'disks', jsonb_build_array(jsonb_build_object('mount', 'C:', 'total_bytes', 100000000000,
        'used_bytes', case when hashtext(name) % 33 = 0 then 95000000000 else 50000000000 end))), 1
    from agents where public_key = 'bench'`;
  const [counts] = await sql<Array<{ agents: number; reports: number; drift: number }>>`
    select (select count(*) from agents where public_key = 'bench')::int as agents, (select count(*) from reports)::int as reports,
           (select count(*) from report_drift)::int as drift`;
  return { agents: counts.agents, reports: counts.reports, driftRows: counts.drift };
}

-- 100: a report writes only the facts and drift items that changed. Every report rewrote every fact
-- and drift row of its agent, nearly all with the same value (bench:fleet: 21 of a report's 36 row
-- writes, at 30,000 agents hundreds of thousands of rows a minute and PostgreSQL's WAL flush the top
-- wait). What a row now cannot say, that the newest report carried its key again, is one row per
-- agent: when its newest facts and drift were reported, by which report, and which keys they held.
create table agent_report_marks (
  agent_id uuid primary key references agents (id),
  facts_at timestamptz,
  fact_keys text[] not null default '{}',
  drift_report_id uuid,
  drift_at timestamptz,
  -- kind || ':' || name (a kind has no ':')
  drift_keys text[] not null default '{}'
);

insert into agent_report_marks (agent_id, facts_at, fact_keys, drift_report_id, drift_at, drift_keys)
select a.id, f.at, coalesce(f.keys, '{}'), d.report_id, d.at, coalesce(d.keys, '{}')
from agents a
left join lateral (
  select max(reported_at) as at, array_agg(fact_key order by fact_key) filter (where reported_at = (select max(reported_at) from agent_facts x where x.agent_id = a.id)) as keys
  from agent_facts where agent_id = a.id
) f on true
left join lateral (
  select (array_agg(report_id order by reported_at desc))[1] as report_id, max(reported_at) as at,
         array_agg(kind || ':' || name order by kind, name) filter (where reported_at = (select max(reported_at) from agent_drift x where x.agent_id = a.id)) as keys
  from agent_drift where agent_id = a.id
) d on true
where f.at is not null or d.at is not null;

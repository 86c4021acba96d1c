-- 070: each agent's latest applying report (not a dry run, not an on-demand run), kept as one row per
-- agent when a report is stored. The fleet's state (console overview, agents list) needs it for every
-- agent at once: a per-agent probe of reports cost 0.05 ms × 10,000 agents on every overview.
-- revision, document and finished_at are copies (reports never change), so reading the fleet touches
-- no report at all. A report dropped by retention takes its row with it, as the lookup it replaces
-- would then have found no applying report either.
create table agent_applied_reports (
  agent_id uuid primary key references agents (id),
  report_id uuid not null unique references reports (id) on delete cascade,
  revision text,
  document text,
  finished_at timestamptz not null
);

insert into agent_applied_reports (agent_id, report_id, revision, document, finished_at)
select distinct on (agent_id) agent_id, id, revision, document, finished_at
from reports
where not dry_run and on_demand_run is null
order by agent_id, finished_at desc;

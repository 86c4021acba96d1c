-- 005: what agents send back (docs/api.md#agent-reports-and-heartbeats): reports with their script and
-- choco runs and drift, the latest facts, drift and package inventory per agent, and metrics.
-- Runs on PostgreSQL 15 and PGlite's 18.

-- One row per report, keyed by the agent's own id for it: a re-sent report hits the primary key and
-- is stored once (insert ... on conflict do nothing).
create table reports (
  id uuid primary key,
  agent_id uuid not null references agents (id),
  revision text,
  -- The desired-state document (its id, the ETag) the agent applied.
  document text,
  started_at timestamptz not null,
  finished_at timestamptz not null,
  dry_run boolean not null,
  -- Whether it carried the package inventory: the newest such report's inventory is the agent's.
  has_inventory boolean not null,
  received_at timestamptz not null default now()
);
create index reports_agent_finished on reports (agent_id, finished_at desc);

create table script_runs (
  report_id uuid not null references reports (id) on delete cascade,
  id uuid not null,
  agent_id uuid not null references agents (id),
  script text not null,
  sha256 text not null,
  phase text not null check (phase in ('check', 'apply')),
  shell text,
  exit_code integer,
  signal text,
  timed_out boolean not null,
  stdout text not null,
  stderr text not null,
  stdout_truncated boolean not null,
  stderr_truncated boolean not null,
  duration_ms integer not null check (duration_ms >= 0),
  started_at timestamptz not null,
  primary key (report_id, id)
);
create index script_runs_agent on script_runs (agent_id, started_at desc);
create index script_runs_agent_script on script_runs (agent_id, script, started_at desc);

create table choco_runs (
  report_id uuid not null references reports (id) on delete cascade,
  id uuid not null,
  agent_id uuid not null references agents (id),
  operation text not null,
  package text not null,
  version text,
  exit_code integer,
  timed_out boolean not null,
  output text not null,
  output_truncated boolean not null,
  reboot_required boolean not null,
  duration_ms integer not null check (duration_ms >= 0),
  started_at timestamptz not null,
  primary key (report_id, id)
);
create index choco_runs_agent on choco_runs (agent_id, started_at desc);

-- Drift as each report saw it (history) ...
create table report_drift (
  report_id uuid not null references reports (id) on delete cascade,
  kind text not null check (kind in ('script', 'package', 'external_fact')),
  name text not null,
  status text not null check (status in ('in_sync', 'changed', 'failed', 'drifted', 'skipped')),
  reason text,
  primary key (report_id, kind, name)
);

-- ... and the latest word per item. `reported_at` is the report's finished_at: a late re-send of an
-- older report never overwrites what a newer one said.
create table agent_drift (
  agent_id uuid not null references agents (id),
  kind text not null,
  name text not null,
  status text not null,
  reason text,
  revision text,
  report_id uuid not null,
  reported_at timestamptz not null,
  primary key (agent_id, kind, name)
);

create table agent_facts (
  agent_id uuid not null references agents (id),
  fact_key text not null,
  value jsonb not null,
  reported_at timestamptz not null,
  updated_at timestamptz not null default now(),
  primary key (agent_id, fact_key)
);

-- The package inventory of the newest report that carried one (replaced as a set).
create table agent_choco_packages (
  agent_id uuid not null references agents (id),
  name text not null,
  version text not null,
  pinned boolean not null,
  reported_at timestamptz not null,
  primary key (agent_id, name)
);

-- Heartbeats: the latest sample, and a ring of the last N per agent (slot = sample number mod N), so
-- the history is bounded by construction with no pruning job and no deletes.
create table agent_metrics_latest (
  agent_id uuid primary key references agents (id),
  at timestamptz not null,
  metrics jsonb not null,
  samples bigint not null,
  received_at timestamptz not null default now()
);

create table agent_metrics (
  agent_id uuid not null references agents (id),
  slot integer not null,
  at timestamptz not null,
  metrics jsonb not null,
  primary key (agent_id, slot)
);
create index agent_metrics_agent_at on agent_metrics (agent_id, at desc);

-- 050: remote console sessions with their asciicast v2 transcripts, and on-demand script runs.
-- Runs on PostgreSQL 15 and PGlite's 18.

-- One row per console request, refused or not. A refused request has end_reason = 'refused:<why>'
-- and no started_at.
create table console_sessions (
  id uuid primary key,
  agent_id uuid not null references agents (id),
  agent_name text not null,
  actor text not null,
  reason text not null,
  cols integer not null,
  rows integer not null,
  requested_at timestamptz not null default now(),
  -- When the agent's PTY started (after consent, when asked).
  started_at timestamptz,
  ended_at timestamptz,
  -- operator-exit, shell-exit, idle-timeout, max-duration, agent-disconnected, revoked, slow-operator,
  -- server-shutdown, or refused:<refusal>.
  end_reason text,
  consent text,
  shell text,
  transcript_bytes bigint not null default 0,
  -- The transcript stopped at the size cap; the session itself went on.
  transcript_truncated boolean not null default false
);
create index console_sessions_requested on console_sessions (requested_at desc);
create index console_sessions_agent on console_sessions (agent_id, requested_at desc);

-- The transcript's event lines ([time, "o"|"i"|"r", data], newline-terminated), appended in chunks
-- while the session runs so a crashed instance loses at most the last flush interval. The asciicast
-- header is built from the session row when the transcript is read.
create table console_transcripts (
  session_id uuid not null references console_sessions (id) on delete cascade,
  seq integer not null,
  events text not null,
  primary key (session_id, seq)
);

-- `pswm-server run`: one row per request, one per targeted agent.
create table on_demand_runs (
  id uuid primary key,
  script text not null,
  -- The applied revision the script was taken from when the run was requested.
  revision text not null,
  actor text not null,
  reason text not null,
  -- Offline agents run it when they reconnect (else they are marked not_reached).
  wait boolean not null,
  requested_at timestamptz not null default now()
);

create table on_demand_targets (
  run_id uuid not null references on_demand_runs (id) on delete cascade,
  agent_id uuid not null references agents (id),
  -- pending: not delivered yet; accepted: the agent started it; done: its result is stored;
  -- refused: the agent would not run it (message says why); not_reached: offline, without --wait.
  status text not null check (status in ('pending', 'accepted', 'done', 'refused', 'not_reached')),
  message text,
  report_id uuid,
  updated_at timestamptz not null default now(),
  primary key (run_id, agent_id)
);
create index on_demand_targets_waiting on on_demand_targets (agent_id) where status = 'pending';

-- Results are ordinary reports with one script run; these mark them as on-demand.
alter table reports add column on_demand_run uuid references on_demand_runs (id);
alter table script_runs add column on_demand_run uuid references on_demand_runs (id);

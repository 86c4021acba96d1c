-- 002: the applied policy state (what reconcile writes) and the record of every reconcile attempt.
-- Runs on PostgreSQL 15 and on PGlite's PostgreSQL 18: no 16+ features.

-- Every policy object of the applied revision, one row per (kind, id). One table instead of seven:
-- the kinds share identity, digest and provenance, and the per-kind shapes live in `spec` (jsonb),
-- already validated by the loader. Per-kind views below give SQL readers a table per kind.
create table policy_objects (
  kind text not null,
  id text not null,
  -- sha256 of the object's canonical content (schemas inventory()); equal digest = unchanged object.
  sha256 text not null,
  -- The revision that last wrote this row. Rows a commit does not change keep their old revision,
  -- which is how "only changed rows are written" is observable.
  revision text not null,
  file text not null,
  line integer not null,
  metadata jsonb not null,
  spec jsonb not null,
  primary key (kind, id)
);

create view organizations as
  select id as name, spec ->> 'display_name' as display_name, spec -> 'settings' as settings,
         metadata, sha256, revision, file, line
  from policy_objects where kind = 'Organization';

create view locations as
  select id, spec ->> 'organization' as organization, metadata ->> 'name' as name,
         spec ->> 'display_name' as display_name, spec -> 'settings' as settings,
         metadata, sha256, revision, file, line
  from policy_objects where kind = 'Location';

create view agent_overrides as
  select id as name, spec ->> 'agent' as agent, spec ->> 'organization' as organization,
         spec ->> 'location' as location, spec -> 'settings' as settings,
         metadata, sha256, revision, file, line
  from policy_objects where kind = 'AgentOverride';

create view scripts as
  select id as name, spec ->> 'shell' as shell, coalesce(spec ->> 'run', 'every_iteration') as run,
         spec -> 'targets' as targets, spec, metadata, sha256, revision, file, line
  from policy_objects where kind = 'Script';

create view external_facts as
  select id as name, spec ->> 'shell' as shell, spec -> 'targets' as targets,
         spec, metadata, sha256, revision, file, line
  from policy_objects where kind = 'ExternalFact';

create view choco_deployments as
  select id as name, spec -> 'packages' as packages, spec -> 'targets' as targets,
         metadata, sha256, revision, file, line
  from policy_objects where kind = 'ChocoDeployment';

create view settings as
  select id as name, spec -> 'settings' as settings, spec -> 'reconcile' as reconcile,
         metadata, sha256, revision, file, line
  from policy_objects where kind = 'Settings';

-- Script, check and fact contents resolved from `file:` or `content:`, by digest. Content-addressed:
-- a row never changes, it is only added or dropped when nothing references it any more.
create table policy_contents (
  sha256 text primary key,
  content text not null,
  size integer not null
);

-- A compiled desired state is stored as two content-addressed parts (schemas compileParts):
--   settings   {settings, provenance}: small, nearly one per scope (overrides differ in settings)
--   resources  scripts/facts (digests, no content), packages, conflicts: shared by every scope with
--              the same applicable resources, so ~1,000 rows for 11,000 scopes instead of 11,000
--              copies of the same ~50 KB. Script bodies live once in policy_contents.
-- Bodies are text, not jsonb: jsonb reorders keys and respaces, and the digest is of these bytes.
create table document_parts (
  sha256 text primary key,
  kind text not null check (kind in ('settings', 'resources')),
  body text not null,
  size integer not null
);

-- A document = one settings part + one resources part; its id is schemas documentDigest(settings,
-- resources), the ETag agents see. The served DesiredState is assembled from the parts and
-- policy_contents (schemas assembleDocument) and cached by id: content-addressed, never stale.
create table desired_documents (
  sha256 text primary key,
  settings_sha256 text not null references document_parts (sha256),
  resources_sha256 text not null references document_parts (sha256)
);
-- Deleting a part checks that no document still uses it.
create index desired_documents_settings on desired_documents (settings_sha256);
create index desired_documents_resources on desired_documents (resources_sha256);

-- Scope → document. A scope is a group of agents that receive the same document:
--   "<org>/<location>"          every agent of a location without an AgentOverride of its own
--   "<org>/<location>/<agent>"  an agent singled out by an AgentOverride (later: any enrolled agent
--                               whose targets or facts make its state differ from its location's)
-- `agent` is null for a location scope. [3/7] resolves an enrolled agent to its most specific scope.
create table scope_documents (
  scope text primary key,
  organization text not null,
  location text not null,
  agent text,
  document_sha256 text not null references desired_documents (sha256),
  -- The revision whose reconcile last changed this scope's document.
  revision text not null
);
create index scope_documents_document on scope_documents (document_sha256);
create index scope_documents_agent on scope_documents (agent) where agent is not null;

-- The reconciler's status, one row (Flux's lastAppliedRevision / lastAttemptedRevision split):
-- the attempted revision is set when a reconcile starts, the applied one only after its transaction
-- commits, so a rejected or crashed attempt leaves the applied revision in force and both visible.
create table policy_state (
  singleton boolean primary key default true check (singleton),
  applied_revision text,
  applied_at timestamptz,
  last_attempted_revision text,
  last_attempted_at timestamptz,
  last_attempted_status text,
  -- [{ type, status, reason, message, lastTransitionTime }]: Ready, Reconciling, Stalled.
  conditions jsonb not null default '[]'
);
insert into policy_state (singleton) values (true);

-- One row per reconcile attempt, whatever its outcome.
create table reconciliations (
  id bigint generated always as identity primary key,
  revision text,
  author text,
  message text,
  trigger text not null,
  status text not null check (status in ('applied', 'rejected', 'no-op', 'failed')),
  -- Why it stopped: ValidationFailed, DeletionBudgetExceeded, FetchFailed, ApplyFailed (null when applied).
  reason text,
  -- One human-readable sentence on the outcome ("applied 3 changes", "removes 40 of 100 objects ...").
  detail text not null default '',
  added integer not null default 0,
  changed integer not null default 0,
  removed integer not null default 0,
  duration_ms integer not null,
  -- [{ code, message, file, line, col }] for a rejected revision.
  errors jsonb not null default '[]',
  started_at timestamptz not null,
  finished_at timestamptz not null
);
create index reconciliations_status on reconciliations (status, id desc);

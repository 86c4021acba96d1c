-- 003: agents and how they enrol (docs/security.md). Runs on PostgreSQL 15 and PGlite's 18.
-- Every credential is stored as the sha256 of a 32-byte random secret: nothing to brute-force, so a
-- slow password hash buys nothing, and a database leak reveals no usable credential.

create table agents (
  id uuid primary key default gen_random_uuid(),
  -- Matched by AgentOverride.agent and targets.agents: names are never reused, even after revocation.
  name text not null unique,
  organization text not null,
  -- The location's name within the organization (policy_objects id is "<organization>/<location>").
  location text not null,
  -- SPKI PEM of the agent's Ed25519 key; null until an admin-created agent presents its token.
  public_key text,
  -- pending: created by an admin, waiting for its enrollment token; active: enrolled; revoked: cut off.
  status text not null check (status in ('pending', 'active', 'revoked')),
  created_at timestamptz not null default now(),
  enrolled_at timestamptz,
  revoked_at timestamptz,
  last_seen_at timestamptz,
  hostname text,
  facts jsonb not null default '{}',
  -- An enrolled agent always has a key; a pending one may be revoked before it ever enrols.
  check (status <> 'active' or public_key is not null),
  check (status <> 'pending' or public_key is null)
);
create index agents_scope on agents (organization, location);
create index agents_revoked on agents (id) where status = 'revoked';

-- Admin-driven enrollment: one token per agent, shown once by `pswm-server agent create`.
create table enrollment_tokens (
  agent_id uuid primary key references agents (id),
  token_hash bytea not null unique,
  created_by text not null,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  used_at timestamptz
);

-- One-time-password codes bound to an organization and location; each enrollment takes one use.
create table enrollment_codes (
  id uuid primary key default gen_random_uuid(),
  code_hash bytea not null unique,
  organization text not null,
  location text not null,
  uses integer not null check (uses > 0),
  uses_remaining integer not null check (uses_remaining >= 0 and uses_remaining <= uses),
  created_by text not null,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  revoked_at timestamptz
);

-- The enrollment queue: agents without a credential wait here for an admin's decision.
create table enrollment_requests (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  hostname text not null,
  public_key text not null,
  facts jsonb not null default '{}',
  status text not null check (status in ('pending', 'approved', 'rejected')),
  created_at timestamptz not null default now(),
  decided_by text,
  decided_at timestamptz,
  organization text,
  location text,
  agent_id uuid references agents (id)
);
-- An agent that registers again while it waits gets its existing request back.
create unique index enrollment_requests_pending_key on enrollment_requests (public_key) where status = 'pending';
create index enrollment_requests_status on enrollment_requests (status, created_at);

-- Server secrets created once per database and shared by every instance: the HMAC keys of agent
-- access tokens and of enrollment nonces.
create table server_secrets (
  name text primary key,
  secret bytea not null,
  created_at timestamptz not null default now()
);

-- Single-use proofs, kept until they expire (then they are refused by their expiry anyway):
-- enrollment nonces (stateless HMAC nonces; this table only makes them single use) and the jti of
-- every accepted agent assertion (replay protection).
create table used_nonces (
  nonce text primary key,
  expires_at timestamptz not null
);
create index used_nonces_expiry on used_nonces (expires_at);

create table used_assertions (
  agent_id uuid not null references agents (id),
  jti text not null,
  expires_at timestamptz not null,
  primary key (agent_id, jti)
);
create index used_assertions_expiry on used_assertions (expires_at);

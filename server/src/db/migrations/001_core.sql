-- Platform tables: API tokens, the audit log, and one-time server facts.
-- Runs on PostgreSQL 15 (the real server) and 18 (PGlite): no 16+ syntax.

create table api_tokens (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  role text not null check (role in ('admin', 'viewer')),
  -- sha256 of the whole token: tokens are 32 random bytes, so a slow password hash buys nothing.
  token_hash bytea not null unique,
  created_by text not null,
  created_at timestamptz not null default now(),
  last_used_at timestamptz,
  revoked_at timestamptz
);

create table audit_log (
  id bigint generated always as identity primary key,
  at timestamptz not null default now(),
  actor text not null,
  action text not null,
  target text,
  outcome text not null check (outcome in ('success', 'failure')),
  details jsonb not null default '{}'
);
create index audit_log_at on audit_log (at desc);

-- Facts the server must establish once per database, e.g. that the initial admin token was issued.
create table server_facts (
  key text primary key,
  created_at timestamptz not null default now()
);

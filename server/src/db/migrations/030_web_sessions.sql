-- Browser sessions of the read-only web console. The cookie carries 32 random bytes; only their sha256 is
-- stored. A session belongs to the API token it was opened with and is only accepted joined to that
-- token, unrevoked: revoking the token ends it. (No foreign key: api_tokens rows are never deleted,
-- and the join already refuses a session whose token is gone.)
create table web_sessions (
  id_hash bytea primary key,
  token_id uuid not null,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null
);
create index web_sessions_expiry on web_sessions (expires_at);

-- The HMAC keys of agent access tokens and enrollment nonces were kept here in plain text, so a read-only
-- copy of the database could mint access tokens. They are now derived from a secret key file kept
-- outside the database (server/src/agents/server-secret.ts); tokens signed with the old keys are
-- refused once, and agents get new ones by signing an assertion. The database keeps only the key's
-- fingerprint, so an instance started with another key refuses to start instead of issuing tokens its
-- peers would refuse.
drop table server_secrets;

create table server_secret_key (
  singleton boolean primary key default true check (singleton),
  key_id text not null,
  recorded_at timestamptz not null default now()
);

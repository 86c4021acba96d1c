-- Signed agent builds for self-update (pswm-server release keygen / add). The release key's private
-- half never reaches the server: `release add` signs on the admin's machine and stores the signature.
create table release_keys (
  id bigserial primary key,
  public_key text not null,
  created_at timestamptz not null default now(),
  active boolean not null default true
);
-- one key signs at a time; agents pin it at enrollment
create unique index release_keys_one_active on release_keys (active) where active;

create table agent_releases (
  platform text not null check (platform in ('linux', 'windows')),
  version text not null check (version ~ '^[0-9A-Za-z][0-9A-Za-z.+-]{0,63}$'),
  sha256 text not null check (sha256 ~ '^[0-9a-f]{64}$'),
  signature text not null,
  release_key_id bigint not null references release_keys (id),
  size_bytes bigint not null,
  content bytea not null,
  created_at timestamptz not null default now(),
  primary key (platform, version)
);

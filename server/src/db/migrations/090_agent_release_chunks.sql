-- 090: a release's bytes in 1-MiB chunks, read one at a time. As one bytea value a ~120-MB build took
-- 9 s to store and 5 s to read back (postgres.js moves bytea as hex text), and the server held the
-- whole build, and its twice-as-large hex form, in memory for every download at once; an update
-- rolled out to a few dozen agents could exhaust it. Chunks take 3 s and 1.5 s and one chunk of
-- memory per download.
create table agent_release_chunks (
  platform text not null,
  version text not null,
  seq integer not null check (seq >= 0),
  data bytea not null,
  primary key (platform, version, seq),
  foreign key (platform, version) references agent_releases (platform, version) on delete cascade
);

insert into agent_release_chunks (platform, version, seq, data)
select r.platform, r.version, s.seq, substring(r.content from s.seq * 1048576 + 1 for 1048576)
from agent_releases r
cross join lateral generate_series(0, greatest(ceil(r.size_bytes / 1048576.0)::integer - 1, 0)) as s(seq);

alter table agent_releases drop column content;

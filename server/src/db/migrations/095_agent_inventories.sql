-- 095: an inventory report writes only what changed. The whole set was deleted and inserted again on
-- every report that carried one (a real agent with Chocolatey sends it each iteration): at 100
-- reports a second of 40 packages, 4,000 rows deleted and 4,000 inserted a second for nothing.
-- When the set was last reported is now one row per agent; each package keeps when it last changed.
create table agent_inventories (
  agent_id uuid primary key references agents (id),
  reported_at timestamptz not null
);

insert into agent_inventories (agent_id, reported_at)
select agent_id, max(reported_at) from (
  select agent_id, finished_at as reported_at from reports where has_inventory
  union all
  select agent_id, reported_at from agent_choco_packages
) as reported
group by agent_id;

alter table agent_choco_packages rename column reported_at to changed_at;

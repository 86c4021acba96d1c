-- 105: two reports of one agent stored at once each compared the agent's facts and drift with the
-- rows as they were before both, so the older one could leave its value where the newer one had
-- repeated another (npm test's burst of 12 reports: 1 run in 8). Every report that carries facts or
-- drift updates its agent's mark row, and the later of two waits there for the earlier to commit;
-- `writes` counts those updates, so the later one sees that the mark moved since its snapshot and
-- fails with serialization_failure, to be stored again in the agent's turn (store-report.ts).
alter table agent_report_marks add column writes bigint not null default 1;

create function pswm_report_overlapped(agent uuid) returns boolean language plpgsql as $$
begin
  raise exception 'another report of agent % was stored while this one was', agent using errcode = '40001';
end
$$;

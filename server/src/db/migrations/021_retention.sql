-- Bounded history (server/src/retention/): pruning finds old rows by time, and the audit API filters by
-- actor, action and target, newest first. The report indexes also serve "is there a newer report of
-- this agent", which keeps each agent's latest report whatever its age.
create index reports_finished on reports (finished_at);
create index reconciliations_finished on reconciliations (finished_at);
create index audit_log_actor on audit_log (actor, id desc);
create index audit_log_action on audit_log (action text_pattern_ops, id desc);
create index audit_log_target on audit_log (target, id desc) where target is not null;

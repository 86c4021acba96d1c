-- Drift items of kind 'agent': the agent's own word on a report (values it left out because the
-- server could not store them, new critical.log entries).
alter table report_drift drop constraint if exists report_drift_kind_check;
alter table report_drift add constraint report_drift_kind_check check (kind in ('script', 'package', 'external_fact', 'agent'));

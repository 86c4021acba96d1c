-- A poll every 60 s that finds nothing new would add ~1,440 identical no-op rows a day. Consecutive
-- no-ops of one revision share one row instead: `repeats` counts them and finished_at is the last.
alter table reconciliations add column repeats integer not null default 1;

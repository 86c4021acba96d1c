-- Exit codes are 32-bit unsigned on Windows (0xC0000005, an access violation, is 3221225477), which
-- does not fit integer: a crashed process made its report a 500. bigint holds signed and unsigned
-- 32-bit codes whole (report.schema.json bounds them).
alter table script_runs alter column exit_code type bigint;
alter table choco_runs alter column exit_code type bigint;

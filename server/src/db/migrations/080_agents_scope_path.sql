-- 080: agents by their location's scope path ("org/location"), the form a reconcile and the document
-- map select them in. With only (organization, location) indexed, the queries behind a one-location
-- commit (the agents to re-decide, their documents before and after the write) each read every agent:
-- 30,000 rows, three times, two of them inside the apply transaction.
create index agents_scope_path on agents ((organization || '/' || location));

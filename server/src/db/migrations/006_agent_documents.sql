-- 006: enrolled agents' documents. An agent whose document differs from its location's (an
-- AgentOverride, a `targets.agents` entry, facts that selectors test) gets a scope of its own,
-- "<org>/<location>/<agent name>", in scope_documents; every other agent reads its location's scope.
-- Those rows change between reconciles too (an agent enrols, reports new facts), without the applied
-- revision moving: documents_version moves with every write to the applied documents, so an
-- instance can tell that what it remembers of them is stale.
alter table policy_state add column documents_version bigint not null default 0;

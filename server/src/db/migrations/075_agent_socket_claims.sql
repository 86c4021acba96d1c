-- 075: who holds each agent's WebSocket, across server instances, and whether two machines share one
-- agent identity (a cloned VM): server/src/hub/socket-claims.ts. One row per agent that ever opened
-- a socket; written once per connect and once per close, never per message.
create table agent_socket_claims (
  agent_id uuid primary key references agents (id),
  -- Bumped by every connect: the newest socket of an agent is the one with the highest generation.
  generation bigint not null,
  -- The generation of the socket open now; null once it closed.
  holder bigint,
  -- The agent process that holds it (X-PSWM-Agent-Instance, else its address) and where it is.
  holder_instance text,
  holder_peer jsonb,
  -- Takeovers by a different agent process within the current counting window.
  takeovers integer not null default 0,
  takeovers_since timestamptz,
  -- Set when the takeovers flap; the agent is flagged while duplicate_until is in the future.
  duplicate_since timestamptz,
  duplicate_until timestamptz,
  duplicate_peers jsonb not null default '[]'
);

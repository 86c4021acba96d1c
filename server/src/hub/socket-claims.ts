// Which socket of an agent is the newest, across server instances, and whether two machines share
// the agent's identity. Every connect claims the agent's row in agent_socket_claims: a connect that
// finds the socket of a *different* agent process still open is a takeover. One machine whose link
// dropped reconnects as the same process (its old socket was half-open, not another holder); two
// machines with one identity (a cloned VM) take the socket from each other over and over. When the
// takeovers in a window reach the threshold the agent is flagged, audited once, and from then on the
// displaced socket is told to stop (CLOSE_DUPLICATE) rather than to reconnect. The flag lapses after
// a quiet period without takeovers.
import type postgres from 'postgres';
import { audit } from '../audit.ts';
import { batched, AGENT_CALL_BATCH } from '../db/batched.ts';

export interface DuplicatePolicy {
  /** Takeovers by another agent process within windowMs that mean a duplicate identity. */
  takeovers: number;
  windowMs: number;
  /** The flag stays this long after the last takeover. */
  quietMs: number;
}

export const DEFAULT_DUPLICATE_POLICY: DuplicatePolicy = { takeovers: 3, windowMs: 600_000, quietMs: 3 * 3600_000 };

/** Where a socket comes from, as far as the server can tell. */
export interface SocketPeer {
  address: string;
  hostname?: string;
}

export interface ClaimRow {
  generation: string | number;
  holder: string | number | null;
  holder_instance: string | null;
  holder_peer: SocketPeer | null;
  takeovers: number;
  takeovers_since: Date | null;
  duplicate_since: Date | null;
  duplicate_until: Date | null;
  duplicate_peers: SocketPeer[];
}

export interface ClaimJudgement {
  row: Omit<ClaimRow, 'generation' | 'holder'> & { generation: number; holder: number };
  /** The previous socket belongs to another agent process and was still open. */
  takeover: boolean;
  /** Tell the displaced socket to stop: the identity is in use elsewhere. */
  duplicate: boolean;
  /** This claim raised the flag (audit it). */
  newlyFlagged: boolean;
}

/** Peers listed on a flagged agent: enough to find the machines, bounded so a churn of addresses cannot grow the row. */
const MAX_PEERS = 8;

/** Pure: the row after this connect, and what it means. `previous` is undefined for an agent's first socket. */
export function judgeClaim(previous: ClaimRow | undefined, claim: { instance: string; peer: SocketPeer; now: Date }, policy: DuplicatePolicy): ClaimJudgement {
  const now = claim.now.getTime();
  const generation = Number(previous?.generation ?? 0) + 1;
  const takeover = previous?.holder != null && previous.holder_instance !== claim.instance;
  const windowOpen = previous?.takeovers_since != null && now - previous.takeovers_since.getTime() < policy.windowMs;
  const takeovers = takeover ? (windowOpen ? previous!.takeovers + 1 : 1) : windowOpen ? previous!.takeovers : 0;
  const takeoversSince = takeover && !windowOpen ? claim.now : windowOpen ? previous!.takeovers_since : null;
  const flagged = previous?.duplicate_until != null && previous.duplicate_until.getTime() > now;
  const duplicate = takeover && (flagged || takeovers >= policy.takeovers);
  const peers = duplicate ? mergePeers(flagged ? previous!.duplicate_peers : [], [previous!.holder_peer, claim.peer]) : previous?.duplicate_peers ?? [];
  return {
    row: {
      generation,
      holder: generation,
      holder_instance: claim.instance,
      holder_peer: claim.peer,
      takeovers,
      takeovers_since: takeoversSince,
      duplicate_since: duplicate ? (flagged ? previous!.duplicate_since : claim.now) : previous?.duplicate_since ?? null,
      duplicate_until: duplicate ? new Date(now + policy.quietMs) : previous?.duplicate_until ?? null,
      duplicate_peers: peers,
    },
    takeover,
    duplicate,
    newlyFlagged: duplicate && !flagged,
  };
}

function mergePeers(known: SocketPeer[], more: Array<SocketPeer | null>): SocketPeer[] {
  const all = [...known];
  for (const peer of more) {
    if (peer && !all.some((p) => p.address === peer.address && p.hostname === peer.hostname)) all.push(peer);
  }
  return all.slice(-MAX_PEERS);
}

export interface SocketClaims {
  /** Records the connect; resolves with the socket's generation, whether a socket of the agent was
   * open (here or on another instance) and whether it belongs to a duplicate. */
  claim(agentId: string, claim: { instance: string; peer: SocketPeer }): Promise<{ generation: number; displaced: boolean; duplicate: boolean }>;
  /** The socket of this generation closed (a no-op when a newer one holds the agent already). */
  release(agentId: string, generation: number): Promise<void>;
  /** release() for many sockets in one statement (an instance shutting down). */
  releaseMany(sockets: ClosedSocket[]): Promise<void>;
}

interface ClaimRequest { agentId: string; instance: string; peer: SocketPeer }
interface ClosedSocket { agentId: string; generation: number }
type ClaimResult = { generation: number; displaced: boolean; duplicate: boolean };

export function createSocketClaims(sql: postgres.Sql, policy: DuplicatePolicy = DEFAULT_DUPLICATE_POLICY): SocketClaims {
  // connects claimed together: a fleet reconnecting after a restart is one transaction per batch, not per agent
  const claimBatch = batched((requests: ClaimRequest[]) => sql.begin((tx) => claimMany(tx, requests, policy)), AGENT_CALL_BATCH);
  const releaseMany = async (sockets: ClosedSocket[]) => {
    if (!sockets.length) return;
    await sql`
      update agent_socket_claims c set holder = null
      from unnest(${sockets.map((s) => s.agentId)}::uuid[], ${sockets.map((s) => s.generation)}::bigint[]) as closed(agent_id, generation)
      where c.agent_id = closed.agent_id and c.holder = closed.generation`;
  };
  // Sockets closing together (a network blip, agents giving up on a slow upgrade during a herd) are
  // released in one statement per batch: one commit each, they queued on PostgreSQL's WAL flush
  // (bench:fleet at 30,000, after a restart: 2,000 single-row releases, every sample of them waiting
  // on WALWrite). Order against claims does not matter: a release only clears its own generation.
  const releaseBatch = batched(async (sockets: ClosedSocket[]) => {
    await releaseMany(sockets);
    return sockets.map(() => undefined);
  }, AGENT_CALL_BATCH);
  return {
    claim: (agentId, { instance, peer }) => claimBatch({ agentId, instance, peer }),
    release: (agentId, generation) => releaseBatch({ agentId, generation }),
    releaseMany,
  };
}

/**
 * Claims in one transaction: the agents' rows are locked in id order (so instances claiming
 * overlapping agents cannot deadlock), each claim is judged in arrival order against the row as the
 * claims before it left it (one agent twice in a batch is judged as two connects), and the rows are
 * written back in one statement.
 */
async function claimMany(tx: postgres.TransactionSql, requests: ClaimRequest[], policy: DuplicatePolicy): Promise<ClaimResult[]> {
  const ids = [...new Set(requests.map((r) => r.agentId))];
  await tx`insert into agent_socket_claims (agent_id, generation) select unnest(${ids}::uuid[]), 0 on conflict (agent_id) do nothing`;
  const locked = await tx<Array<ClaimRow & { agent_id: string; now: Date }>>`
    select *, now() as now from agent_socket_claims where agent_id = any(${ids}::uuid[]) order by agent_id for update`;
  const rows = new Map<string, ClaimRow & { now: Date }>(locked.map((row) => [row.agent_id, row]));
  const flagged: Array<{ agentId: string; row: ClaimJudgement['row'] }> = [];
  const results = requests.map(({ agentId, instance, peer }) => {
    const previous = rows.get(agentId)!;
    const unclaimed = Number(previous.generation) === 0;
    const judged = judgeClaim(unclaimed ? undefined : previous, { instance, peer, now: previous.now }, policy);
    rows.set(agentId, { ...judged.row, now: previous.now });
    if (judged.newlyFlagged) flagged.push({ agentId, row: judged.row });
    return { generation: judged.row.generation, displaced: previous.holder !== null, duplicate: judged.duplicate };
  });
  const written = ids.map((agentId) => ({ agent_id: agentId, ...rows.get(agentId)!, now: undefined }));
  await tx`
    update agent_socket_claims c set generation = r.generation, holder = r.holder, holder_instance = r.holder_instance,
      holder_peer = r.holder_peer, takeovers = r.takeovers, takeovers_since = r.takeovers_since,
      duplicate_since = r.duplicate_since, duplicate_until = r.duplicate_until, duplicate_peers = r.duplicate_peers
    from jsonb_to_recordset(${tx.json(written as unknown as postgres.JSONValue)}) as r(
      agent_id uuid, generation bigint, holder bigint, holder_instance text, holder_peer jsonb, takeovers int,
      takeovers_since timestamptz, duplicate_since timestamptz, duplicate_until timestamptz, duplicate_peers jsonb)
    where c.agent_id = r.agent_id`;
  for (const { agentId, row } of flagged) {
    await audit(tx, {
      actor: 'server', action: 'agent.duplicate_identity', target: agentId, outcome: 'failure',
      details: {
        takeovers: row.takeovers, window_seconds: policy.windowMs / 1000, peers: row.duplicate_peers,
        remedy: 'two machines use this agent identity (a cloned VM?): re-enroll the clone (pswm gencert --force --reenroll, then pswm enroll --force under its own name)',
      },
    });
  }
  return results;
}

// Console sessions in PostgreSQL: the session row, its transcript chunks, the listing, the
// transcript as one asciicast v2 text, and retention.
import type { Queryable } from '../db/database.ts';
import { headerLine } from './asciicast.ts';

export interface SessionRow {
  id: string;
  agent_id: string;
  agent_name: string;
  actor: string;
  reason: string;
  cols: number;
  rows: number;
  requested_at: Date;
  started_at: Date | null;
  ended_at: Date | null;
  end_reason: string | null;
  consent: string | null;
  shell: string | null;
  transcript_bytes: string;
  transcript_truncated: boolean;
}

// transcript_bytes is a bigint: as text, so it is never rounded on its way to JSON.
const sessionColumns = (sql: Queryable) => sql.unsafe(`id, agent_id, agent_name, actor, reason, cols, rows, requested_at, started_at, ended_at, end_reason, consent, shell,
  transcript_bytes::text, transcript_truncated`);

export async function insertSession(sql: Queryable, row: { id: string; agentId: string; agentName: string; actor: string; reason: string; cols: number; rows: number }): Promise<void> {
  await sql`
    insert into console_sessions (id, agent_id, agent_name, actor, reason, cols, rows)
    values (${row.id}, ${row.agentId}, ${row.agentName}, ${row.actor}, ${row.reason}, ${row.cols}, ${row.rows})`;
}

export async function markStarted(sql: Queryable, id: string, at: Date, shell: string, consent: string | null): Promise<void> {
  await sql`update console_sessions set started_at = ${at}, shell = ${shell}, consent = coalesce(consent, ${consent}) where id = ${id}`;
}

export async function recordConsent(sql: Queryable, id: string, answer: string): Promise<void> {
  await sql`update console_sessions set consent = ${answer} where id = ${id}`;
}

export async function appendTranscript(sql: Queryable, id: string, seq: number, events: string, bytes: number, truncated: boolean): Promise<void> {
  await sql`insert into console_transcripts (session_id, seq, events) values (${id}, ${seq}, ${events})`;
  await sql`update console_sessions set transcript_bytes = ${bytes}, transcript_truncated = ${truncated} where id = ${id}`;
}

export async function markEnded(sql: Queryable, id: string, at: Date, endReason: string): Promise<void> {
  await sql`update console_sessions set ended_at = ${at}, end_reason = ${endReason} where id = ${id} and ended_at is null`;
}

export interface SessionFilter {
  agentId?: string;
  /** The operator: an actor as the audit log names it (`token:NAME`), or just the token's name. */
  actor?: string;
  /** Requested at or after / before these times (ISO). */
  since?: string;
  until?: string;
}

/** Sessions newest first, one page of them, with how many the filter selects in all. */
export async function listSessions(sql: Queryable, filter: SessionFilter & { limit: number; offset?: number }): Promise<{ total: number; sessions: SessionRow[] }> {
  const conditions = [
    filter.agentId !== undefined && sql`agent_id = ${filter.agentId}::uuid`,
    filter.actor !== undefined && sql`(actor = ${filter.actor} or actor = ${`token:${filter.actor}`})`,
    filter.since !== undefined && sql`requested_at >= ${filter.since}::timestamptz`,
    filter.until !== undefined && sql`requested_at < ${filter.until}::timestamptz`,
  ].filter((condition) => condition !== false);
  const where = conditions.reduce((all, condition) => sql`${all} and ${condition}`, sql`true`);
  const rows = await sql<Array<SessionRow & { total: number }>>`
    select ${sessionColumns(sql)}, count(*) over ()::int as total
    from console_sessions where ${where}
    order by requested_at desc, id
    limit ${filter.limit} offset ${filter.offset ?? 0}`;
  const total = rows[0]?.total ?? (filter.offset ? (await sql<Array<{ total: number }>>`select count(*)::int as total from console_sessions where ${where}`)[0].total : 0);
  return { total, sessions: rows.map(({ total: _, ...row }) => row) };
}

export async function readSession(sql: Queryable, id: string): Promise<SessionRow | undefined> {
  const [row] = await sql<SessionRow[]>`select ${sessionColumns(sql)} from console_sessions where id = ${id}`;
  return row;
}

/** The whole transcript: the header from the session row, then the chunks in order. */
export async function readTranscript(sql: Queryable, session: SessionRow): Promise<string> {
  const chunks = await sql<{ events: string }[]>`select events from console_transcripts where session_id = ${session.id} order by seq`;
  const started = session.started_at ?? session.requested_at;
  const header = headerLine({
    width: session.cols,
    height: session.rows,
    timestamp: Math.floor(started.getTime() / 1000),
    title: `${session.agent_name}: ${session.reason}`,
  });
  return header + chunks.map((chunk) => chunk.events).join('');
}

/** Drops sessions that ended more than `days` ago (their transcripts go with them). */
export async function pruneSessions(sql: Queryable, days: number): Promise<number> {
  const rows = await sql`delete from console_sessions where ended_at < now() - make_interval(days => ${days}) returning id`;
  return rows.length;
}

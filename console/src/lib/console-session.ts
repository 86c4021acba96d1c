// A remote console session as the API lists it, and how its state reads. Pure.

export interface ConsoleSession {
  id: string; agent_name: string; actor: string; reason: string; cols: number; rows: number;
  requested_at: string; started_at: string | null; ended_at: string | null; end_reason: string | null;
  consent: string | null; shell: string | null; transcript_bytes: string; transcript_truncated: boolean;
}

/** How it ended (`refused:<why>` for a refusal), or that it is still opening or running. */
export function sessionEnd(session: Pick<ConsoleSession, 'end_reason' | 'started_at'>): string {
  return session.end_reason ?? (session.started_at ? 'running' : 'opening');
}

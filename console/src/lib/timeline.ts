// An agent's activity as one list, newest first: audit entries about it (creation, enrollment,
// revocation, signals, console sessions with a link to their replay), the revision it applied last,
// and its script and choco runs. Pure.

export interface AuditEntry { at: string; actor: string; action: string; outcome: string; details: Record<string, unknown> }
export interface Run {
  type: 'script' | 'choco'; startedAt: string; exitCode: number | null; timedOut: boolean; durationMs: number;
  script?: string; phase?: string; stdout?: string; stderr?: string;
  operation?: string; package?: string; version?: string | null; output?: string;
}
export interface TimelineEvent { at: string; title: string; output?: string; href?: string }

export function agentTimeline(
  agent: { applied: { revision: string | null; at: string } | null },
  runs: Run[],
  audit: AuditEntry[],
): TimelineEvent[] {
  const events: TimelineEvent[] = [
    ...audit.map(auditEvent),
    ...runs.map(runEvent),
    ...(agent.applied?.revision ? [{ at: agent.applied.at, title: `applied revision ${agent.applied.revision.slice(0, 10)}` }] : []),
  ];
  return events.sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
}

function auditEvent(entry: AuditEntry): TimelineEvent {
  const title = `${entry.action} by ${entry.actor}${entry.outcome === 'failure' ? ' (failed)' : ''}`;
  // console.open, console.close, console.refuse name their session: the replay is a link away
  const session = entry.action.startsWith('console.') && typeof entry.details.session === 'string' ? entry.details.session : undefined;
  return { at: entry.at, title, ...(session ? { href: `/sessions/${encodeURIComponent(session)}` } : {}) };
}

function runEvent(run: Run): TimelineEvent {
  const exit = run.timedOut ? 'timed out' : `exit ${run.exitCode ?? '—'}`;
  if (run.type === 'script') {
    const output = [run.stdout, run.stderr].filter(Boolean).join('\n--- stderr ---\n');
    return { at: run.startedAt, title: `script ${run.script} (${run.phase}): ${exit}, ${run.durationMs} ms`, ...(output ? { output } : {}) };
  }
  return { at: run.startedAt, title: `choco ${run.operation} ${run.package}${run.version ? ` ${run.version}` : ''}: ${exit}, ${run.durationMs} ms`, ...(run.output ? { output: run.output } : {}) };
}

// `pswm-server console AGENT --reason "..."` opens a remote console; `console list` lists sessions;
// `console replay SESSION` plays a transcript back (--speed) or prints what the operator saw (--dump).
// All through a running server (--server URL, PSWM_ADMIN_TOKEN): sessions live on the server instances.
import { ConfigError } from '../config/config.ts';
import { outputText, parseAsciicast, replayFrames } from '../console/asciicast.ts';
import type { SessionRow } from '../console/session-store.ts';
import { requiredFlag } from './args.ts';
import { EXIT_OK } from './command.ts';
import type { CommandContext, LeafCommand } from './command.ts';
import { runConsoleClient } from './console-client.ts';
import { callServer, SERVER_URL_OPTION, serverUrl } from './remote.ts';
import { formatTable, formatTime } from './table.ts';

export const consoleCommand: LeafCommand = {
  summary: 'Open a remote console on an agent (console AGENT --reason "..."), list sessions (console list), or replay one (console replay SESSION).',
  args: '<agent> | list | replay <session>',
  options: [
    { flag: 'reason', type: 'string', description: 'Why the console is opened; required, kept with the session and in the audit log.' },
    { flag: 'agent', type: 'string', description: 'console list: only this agent\'s sessions.' },
    { flag: 'limit', type: 'string', description: 'console list: at most this many sessions (default 50).' },
    { flag: 'speed', type: 'string', description: 'console replay: playback speed factor (default 1; 2 plays twice as fast).' },
    { flag: 'dump', type: 'boolean', description: 'console replay: print the output text at once instead of playing it.' },
    SERVER_URL_OPTION,
  ],
  usesServerConfig: false,
  async run(ctx) {
    const server = serverUrl(ctx);
    if (!server) throw new ConfigError('BAD_ARGUMENTS', 'console needs --server URL (or PSWM_SERVER) and PSWM_ADMIN_TOKEN');
    const [first, ...rest] = ctx.positionals;
    if (first === 'list' && !rest.length) return list(ctx);
    if (first === 'replay' && rest.length === 1) return replay(ctx, rest[0]);
    if (!first || rest.length) throw new ConfigError('BAD_ARGUMENTS', 'expected an agent name, "list", or "replay <session>"');
    const token = ctx.env.PSWM_ADMIN_TOKEN;
    if (!token) throw new ConfigError('BAD_ARGUMENTS', 'console needs the environment variable PSWM_ADMIN_TOKEN');
    return runConsoleClient({
      server, token, agent: first, reason: requiredFlag(ctx, 'reason'),
      terminal: { stdin: process.stdin, stdout: process.stdout, notice: (line) => process.stderr.write(`${line}\r\n`) },
    });
  },
};

async function list(ctx: CommandContext): Promise<number> {
  const query = new URLSearchParams();
  if (ctx.values.agent) query.set('agent', ctx.values.agent as string);
  if (ctx.values.limit) query.set('limit', ctx.values.limit as string);
  const { sessions } = await callServer<{ sessions: SessionRow[] }>(ctx, 'GET', `/api/v1/console/sessions?${query}`);
  ctx.stdout(formatTable(
    ['SESSION', 'AGENT', 'ACTOR', 'REQUESTED', 'DURATION', 'END', 'TRANSCRIPT', 'REASON'],
    sessions.map((s) => [
      s.id, s.agent_name, s.actor, formatTime(s.requested_at), duration(s), s.end_reason ?? (s.started_at ? 'running' : 'opening'),
      `${s.transcript_bytes} B${s.transcript_truncated ? ' (truncated)' : ''}`, s.reason,
    ]),
  ));
  return EXIT_OK;
}

async function replay(ctx: CommandContext, session: string): Promise<number> {
  const speed = ctx.values.speed === undefined ? 1 : Number(ctx.values.speed);
  if (!(speed > 0)) throw new ConfigError('BAD_ARGUMENTS', `--speed must be a positive number, not "${String(ctx.values.speed)}"`);
  const text = await fetchTranscript(ctx, session);
  const { events } = parseAsciicast(text);
  if (ctx.values.dump) {
    process.stdout.write(outputText(events));
    return EXIT_OK;
  }
  let previous = 0;
  for (const [at, data] of replayFrames(events)) {
    const pause = (at - previous) / speed;
    previous = at;
    if (pause > 0) await new Promise((resolve) => setTimeout(resolve, pause * 1000));
    process.stdout.write(data);
  }
  return EXIT_OK;
}

async function fetchTranscript(ctx: CommandContext, session: string): Promise<string> {
  const url = new URL(`/api/v1/console/sessions/${encodeURIComponent(session)}/transcript`, serverUrl(ctx));
  const response = await fetch(url, { headers: { authorization: `Bearer ${ctx.env.PSWM_ADMIN_TOKEN ?? ''}` } });
  const body = await response.text();
  if (!response.ok) {
    let message = response.statusText;
    try {
      message = JSON.parse(body).error.message;
    } catch {
      // keep the status text
    }
    throw new Error(`GET ${url.pathname} → ${response.status}: ${message}`);
  }
  return body;
}

function duration(session: SessionRow): string {
  if (!session.started_at) return '-';
  const end = session.ended_at ? new Date(session.ended_at) : new Date();
  return `${Math.round((end.getTime() - new Date(session.started_at).getTime()) / 1000)} s`;
}

// The remote console and on-demand runs on the agent's WebSocket (/api/v1/agent/ws), shared by the
// server and the agent. Control messages are JSON text frames; terminal bytes are binary frames of
// a 16-byte session id followed by the bytes (server → agent: the operator's input, agent → server:
// the PTY's output), so a byte stream never pays for base64 or JSON escaping on the agent link.
import type { ScriptRun } from './agent-wire.ts';

/** Why a session did not start. */
export type ConsoleRefusal =
  | 'forbidden' // the token may not open consoles
  | 'not-found' // no such agent
  | 'revoked' // the agent is revoked
  | 'disabled' // remote_console.enabled is false (server's or agent's copy of the policy)
  | 'agent-offline' // no instance holds the agent's socket
  | 'consent-denied'
  | 'consent-timeout'
  | 'consent-unavailable' // consent required, but this machine has no way to ask
  | 'console-unavailable'; // the PTY could not be started (node-pty missing, shell not found)

/** Why a started session ended. */
export type ConsoleEnd =
  | 'operator-exit' // the operator detached or closed the connection
  | 'operator-lost' // the operator's connection stopped answering keepalive pings
  | 'shell-exit' // the shell on the agent exited
  | 'idle-timeout'
  | 'max-duration'
  | 'agent-disconnected'
  | 'revoked'
  | 'slow-operator' // the operator did not read its output and the server would have had to buffer it
  | 'server-shutdown';

/** Who asked for a pause: the operator's instance (its socket backed up) or the agent's (the bus queue did). */
export type PauseSource = 'operator' | 'relay';

export type ServerToAgent =
  | { type: 'console.open'; session: string; actor: string; reason: string; cols: number; rows: number }
  | { type: 'console.resize'; session: string; cols: number; rows: number }
  | { type: 'console.close'; session: string; reason: ConsoleEnd }
  /** The operator's connection is backed up: stop reading the PTY until resume. */
  | { type: 'console.pause'; session: string; by: PauseSource }
  | { type: 'console.resume'; session: string; by: PauseSource }
  | { type: 'run.start'; run: string; script: string; actor: string; reason: string };

export type ConsoleConsentAnswer = 'allowed' | 'denied' | 'timed-out';

/** What an on-demand run produced on the agent: a script run as reports carry it, with the
 * desired-state document (and its revision) the script came from. */
export type OnDemandResult = Omit<ScriptRun, 'phase'> & { shell: string; document: string; revision?: string };

export type AgentToServer =
  | { type: 'console.consent'; session: string; answer: ConsoleConsentAnswer | 'pending' }
  | { type: 'console.started'; session: string; shell: string }
  | { type: 'console.refused'; session: string; refusal: ConsoleRefusal; message: string }
  | { type: 'console.ended'; session: string; end: ConsoleEnd; message?: string }
  | { type: 'run.accepted'; run: string }
  | { type: 'run.refused'; run: string; message: string }
  | { type: 'run.result'; run: string; result: OnDemandResult };

const SESSION_BYTES = 16;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(text: unknown): text is string {
  return typeof text === 'string' && UUID.test(text);
}

/** A binary frame: the session's uuid as 16 bytes, then the terminal bytes. */
export function encodeTerminalFrame(session: string, data: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(SESSION_BYTES + data.length);
  frame.write(session.replaceAll('-', ''), 0, SESSION_BYTES, 'hex');
  frame.set(data, SESSION_BYTES);
  return frame;
}

export function decodeTerminalFrame(frame: Buffer): { session: string; data: Buffer } | undefined {
  if (frame.length < SESSION_BYTES) return undefined;
  const hex = frame.subarray(0, SESSION_BYTES).toString('hex');
  const session = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  return { session, data: frame.subarray(SESSION_BYTES) };
}

/** A JSON text frame's message, when it is an object with a string `type`; anything else is ignored. */
export function parseControl<T extends { type: string }>(text: string, types: ReadonlySet<string>): T | undefined {
  try {
    const message = JSON.parse(text);
    return typeof message?.type === 'string' && types.has(message.type) ? (message as T) : undefined;
  } catch {
    return undefined;
  }
}

export const SERVER_TO_AGENT_TYPES: ReadonlySet<string> = new Set(['console.open', 'console.resize', 'console.close', 'console.pause', 'console.resume', 'run.start']);
export const AGENT_TO_SERVER_TYPES: ReadonlySet<string> = new Set(['console.consent', 'console.started', 'console.refused', 'console.ended', 'run.accepted', 'run.refused', 'run.result']);

/** Terminal sizes outside these bounds are clamped: a PTY of 0 or 100,000 columns helps nobody. */
export function clampSize(cols: unknown, rows: unknown): { cols: number; rows: number } {
  const clamp = (value: unknown, fallback: number, max: number) =>
    Number.isInteger(value) ? Math.min(Math.max(value as number, 1), max) : fallback;
  return { cols: clamp(cols, 80, 1000), rows: clamp(rows, 24, 1000) };
}

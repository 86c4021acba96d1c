// One console session as seen from the operator's instance: checks (agent, policy), the open request
// through the relay, consent, the byte relay with backpressure, the limits (idle, maximum duration),
// keepalive, the transcript and the audit trail, and the one place a session ends.
import { randomUUID } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import type { ConsoleEnd, ConsoleRefusal } from '@pswm/schemas/console-wire';
import type { WebSocket } from 'ws';
import { findAgent } from '../agents/agents.ts';
import { audit } from '../audit.ts';
import type { Logger } from '../logger.ts';
import type postgres from 'postgres';
import { createRecorder, type EventCode } from './asciicast.ts';
import { readConsoleSettings } from './agent-console-settings.ts';
import { decideConsole, type ServerConsoleLimits, type SessionLimits } from './console-policy.ts';
import type { ConsoleRelay, RelayedMessage } from './relay.ts';
import { appendTranscript, insertSession, markEnded, markStarted, recordConsent } from './session-store.ts';

export interface ConsoleServiceOptions extends ServerConsoleLimits {
  transcriptMaxBytes: number;
  pingIntervalMs: number;
  /** Unsent bytes to the operator past which the agent is asked to pause, and below which it resumes. */
  pauseAboveBytes: number;
  resumeBelowBytes: number;
  /** Past this the operator is cut off ('slow-operator'): the server never buffers more per session. */
  maxBufferedBytes: number;
  /** How long the agent's instance has to confirm the open request, and the agent to answer it. */
  deliveryTimeoutMs: number;
  answerTimeoutMs: number;
}

export const DEFAULT_CONSOLE_OPTIONS: Omit<ConsoleServiceOptions, keyof ServerConsoleLimits | 'transcriptMaxBytes'> = {
  pingIntervalMs: 30_000,
  pauseAboveBytes: 256 * 1024,
  resumeBelowBytes: 64 * 1024,
  maxBufferedBytes: 4 * 1024 * 1024,
  deliveryTimeoutMs: 5000,
  answerTimeoutMs: 30_000,
};

/** What the operator's client receives as JSON text frames (terminal output is binary). */
export type OperatorMessage =
  | { type: 'status'; message: string }
  | { type: 'started'; session: string; shell: string; idle_timeout_seconds: number; max_duration_seconds: number }
  | { type: 'refused'; session?: string; refusal: ConsoleRefusal; message: string }
  | { type: 'ended'; session: string; end: ConsoleEnd; message: string };

export interface SessionRequest {
  agent: string;
  reason: string;
  cols: number;
  rows: number;
  actor: string;
}

const FLUSH_EVERY_MS = 1000;
const FLUSH_ABOVE_CHARS = 64 * 1024;
const DRAIN_POLL_MS = 50;

const END_MESSAGES: Record<ConsoleEnd, string> = {
  'operator-exit': 'the operator closed the session',
  'operator-lost': 'the operator\'s connection stopped answering',
  'shell-exit': 'the shell exited',
  'idle-timeout': 'no input for the idle timeout',
  'max-duration': 'the maximum session duration was reached',
  'agent-disconnected': 'the agent disconnected',
  revoked: 'the agent was revoked',
  'slow-operator': 'the operator did not read its output fast enough',
  'server-shutdown': 'the server is shutting down',
};

export interface RunningSession {
  end(reason: ConsoleEnd): void;
}

export function runOperatorSession(
  deps: { sql: postgres.Sql; relay: ConsoleRelay; log: Logger; options: ConsoleServiceOptions; sessions: Set<RunningSession> },
  socket: WebSocket,
  request: SessionRequest,
): void {
  const { sql, relay, log, options } = deps;
  const session = randomUUID();
  let agentId: string | undefined;
  let phase: 'checking' | 'opening' | 'running' | 'over' = 'checking';
  let limits: SessionLimits | undefined;
  let startedAt = 0;
  let consent: string | null = null;
  const timers = new Set<NodeJS.Timeout>();
  const later = (fn: () => void, ms: number) => {
    const timer = setTimeout(() => (timers.delete(timer), fn()), ms);
    timers.add(timer);
    return timer;
  };
  const cancel = (timer: NodeJS.Timeout | undefined) => {
    if (timer) (clearTimeout(timer), timers.delete(timer));
  };
  let stopListening = () => {};
  const running: RunningSession = { end: (reason) => void end(reason) };

  const sendJson = (message: OperatorMessage) => {
    if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
  };

  // --- transcript: event lines collected here, appended to the database every second
  let recorder = createRecorder(Date.now(), options.transcriptMaxBytes);
  const decoders = { o: new StringDecoder('utf8'), i: new StringDecoder('utf8') };
  let pending = '';
  let seq = 0;
  let flushing: Promise<void> = Promise.resolve();
  let flushTimer: NodeJS.Timeout | undefined;
  const record = (code: EventCode, data: string) => {
    if (!data) return;
    const line = recorder.record(code, data, Date.now());
    if (line) pending += line;
    if (pending.length > FLUSH_ABOVE_CHARS) flush();
    else flushTimer ??= later(() => ((flushTimer = undefined), flush()), FLUSH_EVERY_MS);
  };
  const flush = () => {
    if (!pending && !recorder.truncated) return flushing;
    const events = pending;
    pending = '';
    const { bytes, truncated } = recorder;
    flushing = flushing
      .then(() => (events ? appendTranscript(sql, session, seq++, events, bytes, truncated) : appendTranscript(sql, session, seq++, '', bytes, truncated)))
      .catch((error) => log.error({ err: error, session }, 'console transcript not stored'));
    return flushing;
  };

  // --- ending: every path leads here exactly once
  const refuse = async (refusal: ConsoleRefusal, message: string) => {
    if (phase === 'over') return;
    phase = 'over';
    cleanup();
    sendJson({ type: 'refused', session, refusal, message });
    socket.close(1000, 'refused');
    if (agentId) {
      relay.toAgent(agentId, { type: 'console.close', session, reason: 'operator-exit' });
      await markEnded(sql, session, new Date(), `refused:${refusal}`).catch(() => {});
    }
    await audit(sql, {
      actor: request.actor, action: 'console.refuse', target: agentId ?? request.agent, outcome: 'failure',
      details: { session, agent: request.agent, reason: request.reason, refusal, message },
    }).catch((error) => log.error({ err: error }, 'console audit failed'));
  };

  const end = async (reason: ConsoleEnd, fromAgent = false, message?: string) => {
    if (phase === 'over') return;
    if (phase !== 'running') {
      // ended before it started: for the operator that is a refusal by whatever ended it
      return refuse(reason === 'revoked' ? 'revoked' : 'agent-offline', message ?? END_MESSAGES[reason]);
    }
    phase = 'over';
    cleanup();
    if (!fromAgent && agentId) relay.toAgent(agentId, { type: 'console.close', session, reason });
    sendJson({ type: 'ended', session, end: reason, message: message ?? END_MESSAGES[reason] });
    socket.close(1000, reason);
    record('o', decoders.o.end());
    await flush();
    const endedAt = new Date();
    await markEnded(sql, session, endedAt, reason).catch((error) => log.error({ err: error, session }, 'console session end not stored'));
    await audit(sql, {
      actor: request.actor, action: 'console.close', target: agentId, outcome: 'success',
      details: { session, agent: request.agent, reason: request.reason, end: reason, duration_ms: endedAt.getTime() - startedAt, transcript_bytes: recorder.bytes, transcript_truncated: recorder.truncated },
    }).catch((error) => log.error({ err: error }, 'console audit failed'));
    log.info({ session, agent: request.agent, end: reason }, 'console session ended');
  };

  const cleanup = () => {
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
    clearInterval(pinger);
    stopListening();
    deps.sessions.delete(running);
  };

  // --- limits
  let idleTimer: NodeJS.Timeout | undefined;
  const touch = () => {
    if (phase !== 'running' || !limits) return;
    cancel(idleTimer);
    idleTimer = later(() => void end('idle-timeout'), limits.idleMs);
  };

  // --- keepalive: proxies cut idle connections; a client that stops answering is gone
  let answeredPing = true;
  socket.on('pong', () => (answeredPing = true));
  const pinger = setInterval(() => {
    if (!answeredPing) return void end(phase === 'running' ? 'operator-lost' : 'operator-exit');
    answeredPing = false;
    socket.ping();
  }, options.pingIntervalMs);
  pinger.unref();

  // --- backpressure: the agent pauses its PTY while the operator's socket is backed up
  let pausedForOperator = false;
  const output = (data: Buffer) => {
    if (phase !== 'running') return;
    if (socket.bufferedAmount > options.maxBufferedBytes) return void end('slow-operator');
    socket.send(data);
    record('o', decoders.o.write(data));
    if (!pausedForOperator && socket.bufferedAmount > options.pauseAboveBytes && agentId) {
      pausedForOperator = true;
      relay.toAgent(agentId, { type: 'console.pause', session, by: 'operator' });
      const waitForDrain = () => {
        if (phase !== 'running') return;
        if (socket.bufferedAmount > options.resumeBelowBytes) return void later(waitForDrain, DRAIN_POLL_MS);
        pausedForOperator = false;
        relay.toAgent(agentId!, { type: 'console.resume', session, by: 'operator' });
      };
      later(waitForDrain, DRAIN_POLL_MS);
    }
  };

  // --- the operator's frames: listeners attached before any await, or early frames are lost
  socket.on('message', (data, isBinary) => {
    const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer);
    if (phase !== 'running' || !agentId) return;
    if (isBinary) {
      touch();
      relay.input(agentId, session, bytes);
      record('i', decoders.i.write(bytes));
      return;
    }
    let message: { type?: string; cols?: unknown; rows?: unknown };
    try {
      message = JSON.parse(bytes.toString());
    } catch {
      return;
    }
    if (message.type === 'resize' && Number.isInteger(message.cols) && Number.isInteger(message.rows)) {
      const cols = Math.min(Math.max(message.cols as number, 1), 1000);
      const rows = Math.min(Math.max(message.rows as number, 1), 1000);
      relay.toAgent(agentId, { type: 'console.resize', session, cols, rows });
      record('r', `${cols}x${rows}`);
    } else if (message.type === 'exit') {
      void end('operator-exit');
    }
  });
  socket.on('close', () => void end('operator-exit'));
  socket.on('error', (error) => log.warn({ err: error, session }, 'console operator socket error'));

  // --- the agent's answers
  let answerTimer: NodeJS.Timeout | undefined;
  const onAgentMessage = (message: RelayedMessage) => {
    switch (message.type) {
      case 'relay.delivered':
        cancel(answerTimer);
        answerTimer = later(() => void refuse('agent-offline', 'the agent did not answer the console request'), options.answerTimeoutMs);
        return;
      case 'console.consent':
        if (message.answer === 'pending') {
          // the agent's consent timeout applies; ours only guards against an agent that never answers
          cancel(answerTimer);
          answerTimer = later(() => void refuse('agent-offline', 'the agent did not answer after asking for consent'), limits!.consentTimeoutMs + options.answerTimeoutMs);
          sendJson({ type: 'status', message: 'waiting for consent on the agent' });
          return;
        }
        consent = message.answer;
        void recordConsent(sql, session, message.answer).catch(() => {});
        void audit(sql, {
          actor: request.actor, action: 'console.consent', target: agentId, outcome: message.answer === 'allowed' ? 'success' : 'failure',
          details: { session, agent: request.agent, answer: message.answer },
        }).catch(() => {});
        return;
      case 'console.refused':
        return void refuse(message.refusal, message.message);
      case 'console.started':
        return void started(message.shell);
      case 'console.ended':
        return void end(message.end, true, message.message);
    }
  };

  const started = async (shell: string) => {
    if (phase !== 'opening') return;
    cancel(answerTimer);
    phase = 'running';
    startedAt = Date.now();
    recorder = createRecorder(startedAt, options.transcriptMaxBytes);
    later(() => void end('max-duration'), limits!.maxMs);
    touch();
    sendJson({ type: 'started', session, shell, idle_timeout_seconds: limits!.idleMs / 1000, max_duration_seconds: limits!.maxMs / 1000 });
    await markStarted(sql, session, new Date(startedAt), shell, consent).catch((error) => log.error({ err: error, session }, 'console start not stored'));
    await audit(sql, {
      actor: request.actor, action: 'console.open', target: agentId, outcome: 'success',
      details: { session, agent: request.agent, reason: request.reason, shell, consent, idle_timeout_seconds: limits!.idleMs / 1000, max_duration_seconds: limits!.maxMs / 1000 },
    }).catch((error) => log.error({ err: error }, 'console audit failed'));
    log.info({ session, agent: request.agent, actor: request.actor }, 'console session started');
  };

  deps.sessions.add(running);
  void (async () => {
    const over = () => phase === 'over'; // a function: the awaits below may change the phase
    const agent = await findAgent(sql, request.agent);
    if (over()) return;
    if (!agent) return refuse('not-found', `no agent named "${request.agent}"`);
    agentId = agent.id;
    if (agent.status === 'revoked') return refuse('revoked', `agent "${agent.name}" is revoked`);
    if (agent.status !== 'active') return refuse('agent-offline', `agent "${agent.name}" has not enrolled yet`);
    await insertSession(sql, { id: session, agentId: agent.id, agentName: agent.name, actor: request.actor, reason: request.reason, cols: request.cols, rows: request.rows });
    const decision = decideConsole(await readConsoleSettings(sql, agent.id), options);
    if (over()) return;
    if (!decision.ok) return refuse(decision.refusal, decision.message);
    limits = decision.limits;
    phase = 'opening';
    stopListening = relay.listen(session, { message: onAgentMessage, output });
    answerTimer = later(() => void refuse('agent-offline', `agent "${agent.name}" is not connected to any server instance`), options.deliveryTimeoutMs);
    sendJson({ type: 'status', message: `opening a console on ${agent.name}` });
    relay.toAgent(agent.id, { type: 'console.open', session, actor: request.actor, reason: request.reason, cols: request.cols, rows: request.rows });
  })().catch((error) => {
    log.error({ err: error, session }, 'console session failed');
    void refuse('console-unavailable', `the server could not open the session: ${(error as Error).message}`);
  });
}

// The agent's consoles: checks its own copy of the policy (the server cannot enable what the agent's
// effective settings disable), asks consent where the policy requires it, runs the PTY, relays its
// bytes with backpressure, enforces the idle timeout and maximum duration itself too, and kills the
// PTY's whole process tree when the session ends for any reason (including the socket going away).
import type { ConsoleEnd, ServerToAgent, AgentToServer } from '@pswm/schemas/console-wire';
import { clampSize, encodeTerminalFrame } from '@pswm/schemas/console-wire';
import { askConsent } from './consent.ts';
import { killSession } from './kill-session.ts';
import { chooseShell, spawnPty, type Pty } from './pty.ts';
import type { RemoteLink, RemoteSettings } from './remote-link.ts';

/** Output frames are cut to this size (the server takes frames of up to 64 KiB). */
const MAX_FRAME_DATA = 32 * 1024;
/** The agent's own send buffer past which the PTY is paused until it drains. */
const SOCKET_HIGH_BYTES = 1024 * 1024;
const DRAIN_POLL_MS = 50;

interface Session {
  id: string;
  pty?: Pty;
  pausedBy: Set<string>;
  timers: NodeJS.Timeout[];
  idleTimer?: NodeJS.Timeout;
  /** Input restarts the idle timeout. */
  touch?: () => void;
  over: boolean;
}

export interface ConsoleHost {
  handle(message: Extract<ServerToAgent, { type: `console.${string}` }>): void;
  input(session: string, data: Buffer): void;
  /** The socket is gone: every session ends (the server has already ended them on its side). */
  closeAll(): void;
}

export function createConsoleHost(link: RemoteLink): ConsoleHost {
  const sessions = new Map<string, Session>();
  const send = (message: AgentToServer) => link.send(JSON.stringify(message));

  const finish = (session: Session, end: ConsoleEnd | undefined, message?: string) => {
    if (session.over) return;
    session.over = true;
    sessions.delete(session.id);
    session.timers.forEach(clearTimeout);
    if (session.idleTimer) clearTimeout(session.idleTimer);
    if (session.pty) void killSession(session.pty.pid);
    if (end) send({ type: 'console.ended', session: session.id, end, ...(message ? { message } : {}) });
    link.log.info('console session ended', { session: session.id, end: end ?? 'closed by the server' });
  };

  const setPaused = (session: Session, by: string, paused: boolean) => {
    if (paused) session.pausedBy.add(by);
    else session.pausedBy.delete(by);
    if (!session.pty) return;
    if (session.pausedBy.size) session.pty.pause();
    else session.pty.resume();
  };

  const relayOutput = (session: Session, data: Buffer) => {
    for (let offset = 0; offset < data.length; offset += MAX_FRAME_DATA) {
      link.send(encodeTerminalFrame(session.id, data.subarray(offset, offset + MAX_FRAME_DATA)));
    }
    if (link.bufferedAmount() > SOCKET_HIGH_BYTES && !session.pausedBy.has('socket')) {
      setPaused(session, 'socket', true);
      const poll = () => {
        if (session.over) return;
        if (link.bufferedAmount() > SOCKET_HIGH_BYTES / 4) return void session.timers.push(setTimeout(poll, DRAIN_POLL_MS));
        setPaused(session, 'socket', false);
      };
      session.timers.push(setTimeout(poll, DRAIN_POLL_MS));
    }
  };

  const open = async (request: Extract<ServerToAgent, { type: 'console.open' }>) => {
    const refuse = (refusal: Extract<AgentToServer, { type: 'console.refused' }>['refusal'], message: string) => {
      sessions.delete(request.session);
      send({ type: 'console.refused', session: request.session, refusal, message });
      link.log.warn('console session refused', { session: request.session, actor: request.actor, refusal, message });
    };
    if (sessions.has(request.session)) return;
    const session: Session = { id: request.session, pausedBy: new Set(), timers: [], over: false };
    sessions.set(session.id, session);
    const settings: RemoteSettings = link.settings();
    if (!settings.enabled) return refuse('disabled', 'remote_console.enabled is false in the agent\'s own copy of its policy');

    if (settings.require_consent) {
      send({ type: 'console.consent', session: session.id, answer: 'pending' });
      const outcome = await askConsent({
        env: link.env, platform: link.platform, timeoutMs: settings.consent_timeout_seconds * 1000,
        request: { actor: request.actor, reason: request.reason, session: session.id },
      });
      if (session.over) return;
      if ('unavailable' in outcome) return refuse('consent-unavailable', outcome.unavailable);
      send({ type: 'console.consent', session: session.id, answer: outcome.answer });
      if (outcome.answer === 'denied') return refuse('consent-denied', 'the user on the agent refused the session');
      if (outcome.answer === 'timed-out' && settings.consent_default !== 'allow') {
        return refuse('consent-timeout', `nobody answered within ${settings.consent_timeout_seconds} s and the default answer is deny`);
      }
    }

    const shell = await chooseShell(link.env, link.platform);
    if (session.over) return;
    if (!shell) return refuse('console-unavailable', 'no shell found on this agent (bash, sh, or PSWM_CONSOLE_SHELL)');
    try {
      session.pty = spawnPty(shell, clampSize(request.cols, request.rows), link.env);
    } catch (error) {
      return refuse('console-unavailable', `the PTY could not be started: ${(error as Error).message}`);
    }
    session.pty.onData((data) => relayOutput(session, data));
    session.pty.onExit(() => finish(session, 'shell-exit'));
    session.timers.push(setTimeout(() => finish(session, 'max-duration'), settings.max_duration_minutes * 60_000));
    session.touch = () => {
      if (session.idleTimer) clearTimeout(session.idleTimer);
      session.idleTimer = setTimeout(() => finish(session, 'idle-timeout'), settings.idle_timeout_minutes * 60_000);
    };
    session.touch();
    send({ type: 'console.started', session: session.id, shell });
    link.log.info('console session started', { session: session.id, actor: request.actor, reason: request.reason, shell });
  };

  return {
    handle(message) {
      const session = sessions.get(message.session);
      switch (message.type) {
        case 'console.open':
          return void open(message).catch((error) => {
            sessions.delete(message.session);
            send({ type: 'console.refused', session: message.session, refusal: 'console-unavailable', message: (error as Error).message });
          });
        case 'console.resize': {
          const { cols, rows } = clampSize(message.cols, message.rows);
          return session?.pty?.resize(cols, rows);
        }
        case 'console.close':
          if (session) finish(session, undefined);
          return;
        case 'console.pause':
        case 'console.resume':
          if (session) setPaused(session, message.by === 'relay' ? 'relay' : 'operator', message.type === 'console.pause');
          return;
      }
    },
    input(sessionId, data) {
      const session = sessions.get(sessionId);
      if (!session?.pty) return;
      session.touch?.();
      session.pty.write(data);
    },
    closeAll() {
      for (const session of [...sessions.values()]) finish(session, undefined);
    },
  };
}

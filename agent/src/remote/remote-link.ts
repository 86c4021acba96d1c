// The agent's end of the console and on-demand run traffic on its WebSocket. Messages the wake socket
// does not handle come here; the console host (and with it node-pty) and the run handler are loaded
// on the first message that needs them, so an agent nobody opens a console on never loads them.
import type { DesiredState } from '@pswm/schemas';
import type { ServerToAgent } from '@pswm/schemas/console-wire';
import { decodeTerminalFrame, parseControl, SERVER_TO_AGENT_TYPES } from '@pswm/schemas/console-wire';
import type { ConsoleHost } from './console-host.ts';

export interface RemoteSettings {
  enabled: boolean;
  require_consent: boolean;
  idle_timeout_minutes: number;
  max_duration_minutes: number;
  consent_timeout_seconds: number;
  consent_default: 'allow' | 'deny';
}

export interface RemoteLink {
  send(data: string | Buffer): void;
  bufferedAmount(): number;
  /** The agent's effective remote_console settings right now. */
  settings(): RemoteSettings;
  env: NodeJS.ProcessEnv;
  platform: NodeJS.Platform;
  log: { info(message: string, fields?: Record<string, unknown>): void; warn(message: string, fields?: Record<string, unknown>): void };
}

export type RunStart = Extract<ServerToAgent, { type: 'run.start' }>;

export interface RemoteChannel {
  receive(data: Buffer, isBinary: boolean): void;
  /** The socket closed: consoles end with it. */
  disconnected(): void;
}

const CONSENT_TIMEOUT_DEFAULT_SECONDS = 60;
/** Run ids remembered so a request delivered twice (sent on reconnect and over the bus) runs once. */
const REMEMBERED_RUNS = 1000;

/** remote_console from a desired state; keys an older server's document lacks get their defaults. */
export function remoteSettingsOf(settings: DesiredState['settings']): RemoteSettings {
  const block = settings.remote_console as DesiredState['settings']['remote_console'] & Partial<RemoteSettings>;
  return {
    enabled: block.enabled,
    require_consent: block.require_consent,
    idle_timeout_minutes: block.idle_timeout_minutes,
    max_duration_minutes: block.max_duration_minutes,
    consent_timeout_seconds: block.consent_timeout_seconds ?? CONSENT_TIMEOUT_DEFAULT_SECONDS,
    consent_default: block.consent_default === 'allow' ? 'allow' : 'deny',
  };
}

export function createRemoteChannel(link: RemoteLink, runs: (message: RunStart) => void): RemoteChannel {
  let host: Promise<ConsoleHost> | undefined;
  const startedRuns = new Set<string>();
  // then() callbacks run in the order they were added, so messages keep their order across the load
  const withHost = (fn: (host: ConsoleHost) => void) => {
    host ??= import('./console-host.ts').then(({ createConsoleHost }) => createConsoleHost(link));
    void host.then(fn, (error) => link.log.warn('console unavailable', { error: (error as Error).message }));
  };
  return {
    receive(data, isBinary) {
      if (isBinary) {
        const frame = decodeTerminalFrame(data);
        if (frame && host) withHost((h) => h.input(frame.session, frame.data));
        return;
      }
      const message = parseControl<ServerToAgent>(data.toString(), SERVER_TO_AGENT_TYPES);
      if (!message) return;
      if (message.type === 'run.start') {
        if (startedRuns.has(message.run)) return;
        startedRuns.add(message.run);
        if (startedRuns.size > REMEMBERED_RUNS) startedRuns.delete(startedRuns.values().next().value!);
        return runs(message);
      }
      withHost((h) => h.handle(message));
    },
    disconnected() {
      if (host) withHost((h) => h.closeAll());
    },
  };
}

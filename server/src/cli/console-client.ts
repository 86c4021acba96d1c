// The operator's terminal in `pswm-server console AGENT`: raw mode while the session runs, every key
// (Ctrl-C included) sent to the agent's shell, the window size sent at start and on every resize, and
// the terminal restored however the session ends. Ctrl-] detaches, as in telnet.
import WebSocket from 'ws';

export const CONSOLE_EXIT = {
  /** The shell exited or the operator detached. */
  ok: 0,
  /** The connection failed or was lost. */
  failure: 1,
  /** The session was refused: no permission, agent unknown/offline/revoked, console disabled, consent. */
  refused: 3,
  /** The server ended it: idle timeout, maximum duration, agent disconnected or revoked. */
  ended: 4,
} as const;

const DETACH_KEY = 0x1d; // Ctrl-]

export interface Terminal {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  /** Status lines, outside the session's output. */
  notice(line: string): void;
}

type ServerMessage =
  | { type: 'status'; message: string }
  | { type: 'started'; session: string; shell: string; idle_timeout_seconds: number; max_duration_seconds: number }
  | { type: 'refused'; refusal: string; message: string }
  | { type: 'ended'; end: string; message: string };

export function consoleUrl(server: string, query: { agent: string; reason: string; cols: number; rows: number }): string {
  const url = new URL('/api/v1/console/ws', server);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  for (const [key, value] of Object.entries(query)) url.searchParams.set(key, String(value));
  return url.toString();
}

export function runConsoleClient(opts: { server: string; token: string; agent: string; reason: string; terminal: Terminal }): Promise<number> {
  const { stdin, stdout, notice } = opts.terminal;
  const size = () => ({ cols: stdout.columns || 80, rows: stdout.rows || 24 });
  const socket = new WebSocket(consoleUrl(opts.server, { agent: opts.agent, reason: opts.reason, ...size() }), {
    headers: { authorization: `Bearer ${opts.token}` },
    handshakeTimeout: 30_000,
  });

  return new Promise<number>((resolve) => {
    let raw = false;
    let finished = false;
    const restore = () => {
      if (raw && stdin.isTTY) stdin.setRawMode(false);
      raw = false;
      stdin.off('data', onInput);
      stdin.pause();
      stdout.off('resize', onResize);
      process.off('exit', restore);
    };
    const finish = (code: number, line?: string) => {
      if (finished) return;
      finished = true;
      restore();
      if (line) notice(line);
      if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) socket.terminate();
      resolve(code);
    };
    const onInput = (data: Buffer) => {
      const detach = data.indexOf(DETACH_KEY);
      if (detach >= 0) {
        if (detach > 0) socket.send(data.subarray(0, detach), { binary: true });
        socket.send(JSON.stringify({ type: 'exit' }));
        return;
      }
      socket.send(data, { binary: true });
    };
    const onResize = () => socket.send(JSON.stringify({ type: 'resize', ...size() }));
    // a crash or process.exit() elsewhere must not leave the operator's terminal in raw mode
    process.on('exit', restore);

    socket.on('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk));
      response.on('end', () => {
        let message = `${response.statusCode} ${response.statusMessage ?? ''}`.trim();
        try {
          message = JSON.parse(body).error.message ?? message;
        } catch {
          // not our JSON error body: the status line says it
        }
        const status = response.statusCode ?? 0;
        finish(status === 401 || status === 403 || status === 404 ? CONSOLE_EXIT.refused : CONSOLE_EXIT.failure, `console refused: ${message}`);
      });
    });
    socket.on('message', (data, isBinary) => {
      const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      if (isBinary) return void stdout.write(bytes);
      let message: ServerMessage;
      try {
        message = JSON.parse(bytes.toString());
      } catch {
        return;
      }
      switch (message.type) {
        case 'status':
          return notice(`${message.message}...`);
        case 'started':
          notice(`connected (${message.shell}; idle timeout ${message.idle_timeout_seconds} s, at most ${message.max_duration_seconds} s); Ctrl-] detaches`);
          if (stdin.isTTY) {
            stdin.setRawMode(true);
            raw = true;
          }
          stdin.on('data', onInput);
          stdin.resume();
          stdout.on('resize', onResize);
          return;
        case 'refused':
          return finish(CONSOLE_EXIT.refused, `console refused (${message.refusal}): ${message.message}`);
        case 'ended': {
          const normal = message.end === 'shell-exit' || message.end === 'operator-exit';
          return finish(normal ? CONSOLE_EXIT.ok : CONSOLE_EXIT.ended, `\r\nconsole session ended (${message.end}): ${message.message}`);
        }
      }
    });
    socket.on('error', (error) => finish(CONSOLE_EXIT.failure, `console connection failed: ${error.message}`));
    socket.on('close', () => finish(CONSOLE_EXIT.failure, '\r\nconsole connection lost'));
  });
}

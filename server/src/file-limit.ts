// Running out of file descriptors (EMFILE: this process's limit, ENFILE: the system's) breaks
// whatever opens a file or socket next, in places that would otherwise report something else (a git
// ref read that fails looks like a missing branch). Such an error is recognised wherever it is
// wrapped and logged once, at error level, with what to do about it; repeats within the quiet period
// are not logged again here, so a fleet retrying against an exhausted process does not flood the log.
import type { Logger } from './logger.ts';

export const FILE_LIMIT_HINT = 'raise the open-file limit (LimitNOFILE= in the systemd unit, ulimit -n) or lower --max-agent-sockets';

const QUIET_MS = 10 * 60_000;
const MAX_CAUSES = 8;

export type FileLimitCode = 'EMFILE' | 'ENFILE';

/** EMFILE or ENFILE when `error`, or an error in its `cause` chain, is one. */
export function fileLimitCode(error: unknown): FileLimitCode | undefined {
  let current = error as { code?: unknown; cause?: unknown } | undefined;
  for (let depth = 0; current && depth < MAX_CAUSES; depth++) {
    if (current.code === 'EMFILE' || current.code === 'ENFILE') return current.code;
    current = current.cause as typeof current;
  }
  return undefined;
}

let lastLoggedAt = Number.NEGATIVE_INFINITY;

/** Logs `error` at error level with the hint if it is EMFILE/ENFILE and none was logged recently;
 * true when it is one (logged or not). `where` says what the process was doing. */
export function reportFileLimit(log: Pick<Logger, 'error'>, error: unknown, where: string, now = Date.now()): boolean {
  const code = fileLimitCode(error);
  if (!code) return false;
  if (now - lastLoggedAt >= QUIET_MS) {
    lastLoggedAt = now;
    log.error({ err: error, code }, `out of file descriptors (${code}) while ${where}: ${FILE_LIMIT_HINT}`);
  }
  return true;
}

const PROBE_INTERVAL_MS = 10_000;

/**
 * Past the open-file limit, libuv accepts each new connection on a reserved descriptor and closes it
 * at once: clients see a reset and the server sees nothing. A periodic probe that opens /proc/self/fd
 * (it needs a descriptor, so it fails with EMFILE exactly then) makes that visible in the log. Listening
 * socket errors (an accept that fails past libuv's workaround) are logged too, instead of ending the
 * process as an unhandled 'error' event.
 */
export function watchFileLimit(server: import('node:net').Server, log: Logger, options: { intervalMs?: number } = {}): () => void {
  const onError = (error: Error) => {
    if (!reportFileLimit(log, error, 'accepting a connection')) log.error({ err: error }, 'the listening socket failed');
  };
  server.on('error', onError);
  const probe = async () => {
    const { opendir } = await import('node:fs/promises');
    try {
      const dir = await opendir('/proc/self/fd');
      await dir.close();
    } catch (error) {
      reportFileLimit(log, error, 'counting open files; new connections are being reset before they reach the server');
    }
  };
  const timer = process.platform === 'linux' ? setInterval(() => void probe(), options.intervalMs ?? PROBE_INTERVAL_MS).unref() : undefined;
  return () => {
    clearInterval(timer);
    server.off('error', onError);
  };
}

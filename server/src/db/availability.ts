// Which errors mean "the database cannot be reached right now" rather than "this query is wrong".
// The API answers the first kind with 503 and Retry-After (the client should retry; agents do), the
// second with 500. The decision is pure so the error handler and the tests share it.

// postgres.js's own connection errors, and the socket errors it passes through.
const CLIENT_CODES = new Set([
  'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT',
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN',
]);

// SQLSTATEs the server sends while it cannot serve: class 08 (connection exception), shutting down,
// starting up or in recovery, out of connection slots.
const SERVER_STATES = new Set(['57P01', '57P02', '57P03', '53300']);

/** True when `error` (or an error it wraps as `cause`) says the database is unreachable. */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let current = error, depth = 0; current && typeof current === 'object' && depth < 5; current = (current as { cause?: unknown }).cause, depth++) {
    const { code, name } = current as { code?: unknown; name?: unknown };
    if (typeof code !== 'string') continue;
    if (name === 'PostgresError') {
      if (code.startsWith('08') || SERVER_STATES.has(code)) return true;
    } else if (CLIENT_CODES.has(code)) {
      return true;
    }
  }
  return false;
}

// One pino logger for the server. Secrets never reach the log: authorization headers, tokens and
// secrets are redacted wherever they sit in a logged object (top level or one level down).
import { pino } from 'pino';
import type { DestinationStream, Logger } from 'pino';

export type { Logger } from 'pino';

const SECRET_KEYS = ['authorization', 'token', 'gitToken', 'webhookSecret', 'databaseUrl', 'password', 'secret'];

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-gitlab-token"]',
  'req.headers.cookie',
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((key) => `*.${key}`),
];

export function createLogger(config: { logLevel: string }, destination?: DestinationStream): Logger {
  const options = { level: config.logLevel, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}

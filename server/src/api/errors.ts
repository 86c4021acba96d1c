// Every API error code in one table: code → HTTP status and default message. Handlers throw
// apiError(code, message?); the one error handler in app.ts turns it (and fastify's own errors) into
// `{ error: { code, message } }`. A shipped code never changes meaning; docs/api.md documents each one.
import type { FastifyError } from 'fastify';
import { isDatabaseUnavailable } from '../db/availability.ts';

export const API_ERRORS = {
  BAD_REQUEST: { status: 400, message: 'The request is malformed.' },
  INVALID_JSON: { status: 400, message: 'The request body is not valid JSON.' },
  VALIDATION_FAILED: { status: 400, message: 'The request does not match the schema of this endpoint.' },
  INVALID_PUBLIC_KEY: { status: 400, message: 'public_key must be an Ed25519 public key in SPKI PEM.' },
  UNKNOWN_LOCATION: { status: 400, message: 'The organization or location is not in the applied policy.' },
  UNKNOWN_SCRIPT: { status: 400, message: 'The script is not a Script of the applied policy revision.' },
  UNAUTHENTICATED: { status: 401, message: 'Authentication required: send "Authorization: Bearer <token>".' },
  INVALID_TOKEN: { status: 401, message: 'The token is unknown or revoked.' },
  TOKEN_EXPIRED: { status: 401, message: 'The access token has expired; get a new one with POST /api/v1/agent/token.' },
  AGENT_REVOKED: { status: 401, message: 'This agent has been revoked.' },
  CREDENTIAL_INVALID: { status: 401, message: 'The enrollment token or code is unknown.' },
  CREDENTIAL_EXPIRED: { status: 401, message: 'The enrollment token or code has expired.' },
  CREDENTIAL_USED: { status: 401, message: 'The enrollment token was already used, or the code has no uses left.' },
  CREDENTIAL_REVOKED: { status: 401, message: 'The enrollment code, or the agent the token belongs to, has been revoked.' },
  NONCE_INVALID: { status: 401, message: 'The nonce is malformed, expired or already used; request a new one.' },
  SIGNATURE_INVALID: { status: 401, message: 'The signature does not verify with the presented public key.' },
  ASSERTION_INVALID: { status: 401, message: 'The assertion is malformed, expired, or not signed by the agent\'s key.' },
  ASSERTION_REPLAYED: { status: 401, message: 'The assertion was already used; sign a new one with a fresh jti.' },
  FORBIDDEN: { status: 403, message: 'The token\'s role does not allow this request.' },
  NOT_FOUND: { status: 404, message: 'No such resource.' },
  NO_DESIRED_STATE: { status: 404, message: 'No desired state has been compiled for this agent yet.' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'The method is not allowed on this resource.' },
  CONFLICT: { status: 409, message: 'The request conflicts with the current state.' },
  REPORT_ID_CONFLICT: { status: 409, message: 'The report id was already used by another agent; generate a new id.' },
  BODY_TOO_LARGE: { status: 413, message: 'The request body exceeds the size limit.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'The request body has an unsupported content type.' },
  TOO_MANY_REQUESTS: { status: 429, message: 'Too many requests; retry later.' },
  INTERNAL: { status: 500, message: 'Internal server error.' },
  NOT_READY: { status: 503, message: 'The server is not ready.' },
  SOCKET_CAPACITY: { status: 503, message: 'This server instance holds its maximum of agent sockets; retry later.' },
  DATABASE_UNAVAILABLE: { status: 503, message: 'The database is unreachable; retry after the time in Retry-After.' },
  TIMED_OUT: { status: 503, message: 'The request did not finish in time; retry after the time in Retry-After.' },
} as const;

/** Seconds a client should wait before retrying a 503 (sent as Retry-After). */
export const RETRY_AFTER_SECONDS = 5;

export type ApiErrorCode = keyof typeof API_ERRORS;

export interface ApiError extends Error {
  apiCode: ApiErrorCode;
  statusCode: number;
}

export function apiError(code: ApiErrorCode, message?: string): ApiError {
  const error = new Error(message ?? API_ERRORS[code].message) as ApiError;
  error.apiCode = code;
  error.statusCode = API_ERRORS[code].status;
  return error;
}

export function isApiError(error: unknown): error is ApiError {
  return error instanceof Error && typeof (error as ApiError).apiCode === 'string' && (error as ApiError).apiCode in API_ERRORS;
}

// fastify's own errors for bad input, mapped to our codes so clients see one vocabulary.
const FASTIFY_CODES: Record<string, ApiErrorCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
  FST_ERR_HANDLER_TIMEOUT: 'TIMED_OUT',
};

const BY_STATUS: Record<number, ApiErrorCode> = {
  400: 'BAD_REQUEST', 401: 'UNAUTHENTICATED', 403: 'FORBIDDEN', 404: 'NOT_FOUND', 405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT', 413: 'BODY_TOO_LARGE', 415: 'UNSUPPORTED_MEDIA_TYPE', 429: 'TOO_MANY_REQUESTS',
};

/** Any error thrown during a request → the status and body to send. An unreachable database is a 503, unknown errors are 500s. */
export function toErrorResponse(error: FastifyError | ApiError | Error): { status: number; body: { error: { code: ApiErrorCode; message: string } } } {
  const reply = (code: ApiErrorCode, message: string, status: number = API_ERRORS[code].status) => ({ status, body: { error: { code, message } } });
  if (isApiError(error)) return reply(error.apiCode, error.message, error.statusCode);
  const fastifyError = error as FastifyError;
  // fastify's validation messages already name the part and path: "body/role must be equal to one of ...".
  if (fastifyError.validation) return reply('VALIDATION_FAILED', fastifyError.message);
  const mapped = fastifyError.code ? FASTIFY_CODES[fastifyError.code] : undefined;
  if (mapped) return reply(mapped, fastifyError.message);
  if (isDatabaseUnavailable(error)) return reply('DATABASE_UNAVAILABLE', API_ERRORS.DATABASE_UNAVAILABLE.message);
  const status = fastifyError.statusCode;
  if (status && status >= 400 && status < 500) return reply(BY_STATUS[status] ?? 'BAD_REQUEST', fastifyError.message, status);
  return reply('INTERNAL', API_ERRORS.INTERNAL.message);
}

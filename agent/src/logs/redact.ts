/** Field names whose values never reach a log file: credentials of every kind the agent handles
 * (enrollment token and OTP, access token, signed assertion, private key). `code` alone is not
 * here: error codes are logged everywhere. */
const SECRET_KEY = /token|secret|password|passphrase|private_?key|authorization|assertion|otp|cookie|^key$/i;
const PEM_PRIVATE_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g;
const BEARER = /\b(Bearer)\s+[A-Za-z0-9._~+/=-]+/gi;

export const REDACTED = '[redacted]';

/** A copy of `value` safe to write: secret-named fields replaced, private keys and bearer tokens
 * cut out of free text (an error message can quote a header). */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.replace(PEM_PRIVATE_KEY, REDACTED).replace(BEARER, `$1 ${REDACTED}`);
  if (value === null || typeof value !== 'object' || depth > 8) return value;
  if (value instanceof Error) return { name: value.name, message: redact(value.message, depth + 1), ...('code' in value ? { code: value.code } : {}) };
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) out[key] = SECRET_KEY.test(key) ? REDACTED : redact(field, depth + 1);
  return out;
}

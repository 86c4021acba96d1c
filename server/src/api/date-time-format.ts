// The one meaning of `format: "date-time"` in every schema the server checks: RFC 3339 that
// PostgreSQL can also store. ajv-formats accepts year 0000 and leap seconds (…T23:59:60Z), which
// timestamptz refuses, so without this a well-formed query (?since=0000-01-01T00:00:00Z) was a 500.
import { fullFormats } from 'ajv-formats/dist/formats.js';

const rfc3339 = fullFormats['date-time'] as { validate(text: string): boolean };

export function isStorableDateTime(text: string): boolean {
  return rfc3339.validate(text) && !text.startsWith('0000') && Number.isFinite(Date.parse(text));
}

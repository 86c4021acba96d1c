// Text PostgreSQL can store. JSON may carry U+0000 and lone surrogates; PostgreSQL text and jsonb
// refuse both, which would turn bad input into a 500. Captured output is repaired (it is whatever a
// process wrote); every other string is refused with the path to it.

const REPLACEMENT = '\uFFFD';

export function isStorable(text: string): boolean {
  return text.isWellFormed() && !text.includes('\0');
}

/** Output as PostgreSQL can store it: NULs and lone surrogates become U+FFFD. */
export function storableOutput(text: string): string {
  return isStorable(text) ? text : text.toWellFormed().replaceAll('\0', REPLACEMENT);
}

/**
 * Cuts `text` to at most `maxBytes` of UTF-8 without splitting a character. Lengths are counted in
 * UTF-8 bytes because that is what the agent's cap (max_output_bytes) counts.
 */
export function truncateUtf8(text: string, maxBytes: number): { text: string; truncated: boolean } {
  // A UTF-16 code unit is at most 3 UTF-8 bytes: most outputs are decided without encoding them.
  if (text.length * 3 <= maxBytes || Buffer.byteLength(text, 'utf8') <= maxBytes) return { text, truncated: false };
  const bytes = Buffer.from(text, 'utf8');
  let end = maxBytes;
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--; // back off to the start of a character
  return { text: bytes.subarray(0, end).toString('utf8'), truncated: true };
}

/**
 * The path ("body/facts/os") of the first string, or object key, under `value` that PostgreSQL
 * cannot store; `skip` leaves out paths (the outputs, repaired instead).
 */
export function findUnstorableString(value: unknown, path: string, skip: (path: string) => boolean = () => false): string | undefined {
  if (skip(path)) return undefined;
  if (typeof value === 'string') return isStorable(value) ? undefined : path;
  if (value === null || typeof value !== 'object') return undefined;
  for (const [key, child] of Object.entries(value)) {
    if (!isStorable(key)) return `${path} (a key)`;
    const found = findUnstorableString(child, `${path}/${key}`, skip);
    if (found) return found;
  }
  return undefined;
}

// Captured output as the server keeps it: cut to the output cap on a character boundary.

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

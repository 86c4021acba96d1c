// Canonical JSON: the byte-exact text that desired-state documents and inventory entries are hashed
// over. Two equal values must always produce the same text, whatever order their keys were built in.
import { hash } from 'node:crypto';

/** JSON with object keys sorted (by UTF-16 code unit, like JSON Canonicalization Scheme), no
 * whitespace, arrays in order, and `undefined` properties dropped (as JSON.stringify does). */
export function canonicalJson(value: unknown): string {
  const text = canonicalOrUndefined(value);
  if (text === undefined) throw new TypeError('canonicalJson: the value has no JSON form (undefined or a function)');
  return text;
}

function canonicalOrUndefined(value: unknown): string | undefined {
  if (value === null) return 'null';
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return undefined;
  if (typeof value === 'bigint') throw new TypeError('canonicalJson: bigint has no JSON form');
  if (typeof value !== 'object') return JSON.stringify(value);
  const withToJson = value as { toJSON?: () => unknown };
  if (typeof withToJson.toJSON === 'function') return canonicalOrUndefined(withToJson.toJSON());
  if (Array.isArray(value)) return `[${value.map((item) => canonicalOrUndefined(item) ?? 'null').join(',')}]`;
  const members: string[] = [];
  for (const key of Object.keys(value).sort()) {
    const member = canonicalOrUndefined((value as Record<string, unknown>)[key]);
    if (member !== undefined) members.push(`${JSON.stringify(key)}:${member}`);
  }
  return `{${members.join(',')}}`;
}

/** Lower-case hex sha256 of the UTF-8 encoding of `text`. The one-shot crypto.hash gives the same
 * digest two to three times faster than a Hash object for the many small texts hashed here. */
export function sha256Hex(text: string): string {
  return hash('sha256', text, 'hex');
}

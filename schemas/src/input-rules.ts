// What any JSON the server accepts may contain, beyond each endpoint's schema: the limits every string,
// number and nesting level must respect so that input never reaches PostgreSQL (which refuses U+0000
// and unpaired surrogates in text and jsonb, and integers beyond bigint) or a recursive walk (a body
// nested 20,000 deep overflows the stack) and turns into a 500. The server refuses input that breaks
// a rule (findInputProblem); the agent cleans what it is about to send (sanitizeInput), so both sides
// apply the same rules. Pure: no I/O, and every walk is iterative, so hostile input cannot overflow it.

/** Containers (objects, arrays) nested deeper than this are refused; the root container is level 1. */
export const MAX_DEPTH = 64;
/** Integers JSON carries exactly (±(2^53 − 1)); beyond that a number is no longer the one that was sent. */
export const MAX_SAFE_MAGNITUDE = Number.MAX_SAFE_INTEGER;
/**
 * Exit codes are 32-bit: Windows reports them unsigned (0xC0000005, an access violation, is
 * 3221225477), some tools print the same code signed (-1073741819). Both are accepted and stored whole.
 */
export const EXIT_CODE_MIN = -(2 ** 31);
export const EXIT_CODE_MAX = 2 ** 32 - 1;

export interface InputProblem {
  /** JSON Pointer to the offending value ('' is the root); for a bad key, the object holding it. */
  path: string;
  /** Reads after the path: "/facts/os contains U+0000 (NUL), which cannot be stored". */
  reason: string;
  /** Set by sanitizeInput when the string was repaired (options.repairAt) rather than removed. */
  repaired?: true;
}

export const INPUT_REASONS = {
  nul: 'contains U+0000 (NUL), which cannot be stored',
  surrogate: 'contains an unpaired UTF-16 surrogate, which cannot be stored',
  keyNul: 'has a key that contains U+0000 (NUL), which cannot be stored',
  keySurrogate: 'has a key that contains an unpaired UTF-16 surrogate, which cannot be stored',
  depth: `is nested deeper than ${MAX_DEPTH} levels`,
  notFinite: 'is not a finite number',
  range: `is outside ±${MAX_SAFE_MAGNITUDE}, the integers JSON keeps exactly`,
  notJson: 'is not a JSON value',
} as const;

/** Why a string cannot be stored, or undefined when it can. */
export function textProblem(text: string): string | undefined {
  if (text.includes('\0')) return INPUT_REASONS.nul;
  if (!text.isWellFormed()) return INPUT_REASONS.surrogate;
  return undefined;
}

/** `text` with U+0000 and unpaired surrogates replaced by U+FFFD, for text kept whatever it holds (captured output). */
export function repairText(text: string): string {
  return text.isWellFormed() && !text.includes('\0') ? text : text.toWellFormed().replaceAll('\0', '\uFFFD');
}

/** The first value under `value`, in document order, that breaks a rule; undefined when all is well. */
export function findInputProblem(value: unknown): InputProblem | undefined {
  let found: InputProblem | undefined;
  walk(value, (problem) => {
    found = problem;
    return 'stop';
  });
  return found;
}

/**
 * Whether JSON text nests objects and arrays deeper than MAX_DEPTH, decided without parsing it:
 * JSON.parse takes seconds over a megabyte of "[", so a server refuses such a body before parsing.
 * Strings are skipped with indexOf, so long text (captured output) costs little. Malformed text is
 * not judged here (false): the parser says what is wrong with it.
 */
export function jsonTextTooDeep(text: string): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      let end = i;
      do end = text.indexOf('"', end + 1); while (end > 0 && isEscaped(text, end));
      if (end < 0) return false;
      i = end;
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > MAX_DEPTH) return true;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      depth--;
    }
  }
  return false;
}

const [QUOTE, BACKSLASH, OPEN_ARRAY, CLOSE_ARRAY, OPEN_OBJECT, CLOSE_OBJECT] = [0x22, 0x5c, 0x5b, 0x5d, 0x7b, 0x7d];

/** Whether the quote at `at` is escaped: preceded by an odd number of backslashes. */
function isEscaped(text: string, at: number): boolean {
  let backslashes = 0;
  while (text.charCodeAt(at - 1 - backslashes) === BACKSLASH) backslashes++;
  return backslashes % 2 === 1;
}

export interface SanitizeOptions {
  /** Strings at these paths are repaired (repairText) instead of removed, e.g. required output fields. */
  repairAt?: (path: string) => boolean;
}

/**
 * A copy of `value` without the leaves, keys and too-deep containers that break a rule (array items
 * are removed, so later items move up), and a list of what went and why. Repaired strings
 * (options.repairAt) are listed too. `value` itself is not changed.
 */
export function sanitizeInput(value: unknown, options: SanitizeOptions = {}): { value: unknown; dropped: InputProblem[] } {
  const dropped: InputProblem[] = [];
  const cleaned = walk(value, (problem, leaf) => {
    if (typeof leaf === 'string' && options.repairAt?.(problem.path) && problem.reason !== INPUT_REASONS.depth) {
      dropped.push({ path: problem.path, reason: `${problem.reason}; replaced by U+FFFD`, repaired: true });
      return { replace: repairText(leaf) };
    }
    dropped.push(problem);
    return 'drop';
  });
  return { value: cleaned === DROPPED ? undefined : cleaned, dropped };
}

const DROPPED: unique symbol = Symbol('dropped');
type Verdict = 'stop' | 'drop' | { replace: unknown };

interface Frame {
  source: unknown;
  path: string;
  depth: number;
  /** Where the cleaned value goes: a key of `into` (object) or pushed (array). */
  into: Record<string, unknown> | unknown[] | undefined;
  key: string;
}

/**
 * Depth-first over `root` in document order with an explicit stack. Each problem goes to `onProblem`:
 * 'stop' ends the walk, 'drop' leaves the value out of the copy, `replace` puts another in its place.
 * Returns the cleaned copy (DROPPED when the root itself was dropped).
 */
function walk(root: unknown, onProblem: (problem: InputProblem, value: unknown) => Verdict): unknown {
  const holder: Record<string, unknown> = {};
  const stack: Frame[] = [{ source: root, path: '', depth: 0, into: holder, key: 'root' }];
  while (stack.length) {
    const frame = stack.pop()!;
    const { source, path } = frame;
    const problem = leafProblem(source) ?? (isContainer(source) && frame.depth + 1 > MAX_DEPTH ? INPUT_REASONS.depth : undefined);
    if (problem) {
      const verdict = onProblem({ path, reason: problem }, source);
      if (verdict === 'stop') return DROPPED;
      if (verdict !== 'drop') place(frame, verdict.replace);
      continue;
    }
    if (!isContainer(source)) {
      place(frame, source);
      continue;
    }
    const copy: Record<string, unknown> | unknown[] = Array.isArray(source) ? [] : {};
    place(frame, copy);
    const children: Frame[] = [];
    if (Array.isArray(source)) {
      source.forEach((item, index) => children.push({ source: item, path: `${path}/${index}`, depth: frame.depth + 1, into: copy, key: String(index) }));
    } else {
      for (const [key, item] of Object.entries(source)) {
        const keyProblem = textProblem(key);
        if (keyProblem) {
          const verdict = onProblem({ path, reason: keyProblem === INPUT_REASONS.nul ? INPUT_REASONS.keyNul : INPUT_REASONS.keySurrogate }, item);
          if (verdict === 'stop') return DROPPED;
          continue; // a key cannot be repaired without risking a clash with another key: always dropped
        }
        children.push({ source: item, path: `${path}/${escapePointer(key)}`, depth: frame.depth + 1, into: copy, key });
      }
    }
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
  }
  return 'root' in holder ? holder.root : DROPPED;
}

function place(frame: Frame, value: unknown): void {
  if (Array.isArray(frame.into)) frame.into.push(value);
  else if (frame.into) frame.into[frame.key] = value;
}

function leafProblem(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return textProblem(value);
    case 'number':
      if (!Number.isFinite(value)) return INPUT_REASONS.notFinite;
      return Math.abs(value) > MAX_SAFE_MAGNITUDE ? INPUT_REASONS.range : undefined;
    case 'bigint':
    case 'function':
    case 'symbol':
      return INPUT_REASONS.notJson;
    default:
      return undefined;
  }
}

function isContainer(value: unknown): value is Record<string, unknown> | unknown[] {
  return typeof value === 'object' && value !== null;
}

/** RFC 6901: '~' and '/' inside a key are escaped so the path stays unambiguous. */
function escapePointer(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1');
}

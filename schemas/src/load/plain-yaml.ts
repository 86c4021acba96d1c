// A fast reader for the plain block style most policy files are written in: documents of nested
// mappings and lists, plain or simply quoted scalars, one-line flow lists and mappings of plain
// scalars, literal blocks (`|`, `|-`) and comments. Loading a repository of 12,000 files with the yaml package alone takes seconds; this
// reads the same files in a fraction of that. Anything outside that style (anchors, tags, nested
// or multi-line flow collections, folded or indented blocks, duplicate keys, odd spacing, any
// syntax error) returns undefined and the file goes through the yaml package, which also gives
// every error and position. So on what it accepts it must give exactly what yaml's toJS() gives
// (core schema, YAML 1.2); plain-yaml.test.ts compares both on every fixture.

export interface PlainDocument {
  /** 0-based index of the document in the file, as yaml counts them. */
  index: number;
  value: Record<string, unknown>;
  /** 1-based position of the document's first key (where yaml places the root mapping). */
  line: number;
  col: number;
}

/** Thrown (not an Error: no stack to capture) when the text leaves the supported style. */
const UNSUPPORTED = Symbol('unsupported YAML');

const SPECIAL_CHARACTERS = /[\x00-\x08\x0b-\x1f\x7f\x85\u2028\u2029\ufeff]/;
/** Sticky: matched at a given column without slicing the line. */
const KEY = /[A-Za-z_][A-Za-z0-9_.\/-]*/y;
const NOT_STRING_KEYS = new Set(['null', 'Null', 'NULL', 'true', 'True', 'TRUE', 'false', 'False', 'FALSE', '__proto__']);
const MAX_KEY_LENGTH = 200;

/** The file's non-empty documents, or undefined when yaml has to read it. */
export function readPlainYaml(text: string): PlainDocument[] | undefined {
  if (!text.endsWith('\n') || SPECIAL_CHARACTERS.test(text)) return undefined;
  const lines = text.split('\n');
  const documents: PlainDocument[] = [];
  try {
    // Documents are separated by bare "---" lines; what precedes the first one is a document
    // only if it holds content, and every "---" starts one (empty ones yaml reads as null).
    let start = 0;
    let index = 0;
    for (let end = 0; end <= lines.length; end++) {
      if (end < lines.length && lines[end] !== '---') continue;
      const document = new PlainReader(lines.slice(start, end)).document();
      if (document) documents.push({ index, value: document.value, line: start + document.line, col: 1 });
      if (document || start > 0) index++;
      start = end + 1;
    }
  } catch (error) {
    if (error === UNSUPPORTED) return undefined;
    throw error;
  }
  return documents.length > 0 ? documents : undefined;
}

function unsupported(): never {
  throw UNSUPPORTED;
}

function indentOf(line: string): number {
  let i = 0;
  while (line.charCodeAt(i) === 32) i++;
  return i;
}

class PlainReader {
  readonly lines: string[];
  /** Index of the next line not yet consumed. */
  next = 0;

  constructor(lines: string[]) {
    this.lines = lines;
  }

  /** The root mapping and its 1-based line, or undefined when the lines hold only comments. */
  document(): { value: Record<string, unknown>; line: number } | undefined {
    const first = this.peek();
    if (first < 0) return undefined;
    if (indentOf(this.lines[first]) !== 0) unsupported();
    const value = this.mapping(first, 0);
    if (this.peek() >= 0) unsupported();
    return { value, line: first + 1 };
  }

  /** The next line holding structure (blank and comment lines skipped), or -1 at the end. */
  peek(): number {
    this.skipTrivia();
    const line = this.lines[this.next];
    if (line === undefined) return -1;
    if (line.includes('\t') || line.startsWith('---') || line.startsWith('...')) unsupported();
    return this.next;
  }

  skipTrivia(): void {
    const { lines } = this;
    for (; this.next < lines.length; this.next++) {
      const line = lines[this.next];
      const indent = indentOf(line);
      if (indent !== line.length && line.charCodeAt(indent) !== 35 /* # */) return;
      if (line.includes('\t')) unsupported();
    }
  }

  /** A block mapping whose first key is at (`lineIndex`, `indent`); later keys start lines at `indent`. */
  mapping(lineIndex: number, indent: number): Record<string, unknown> {
    const map: Record<string, unknown> = {};
    let index = lineIndex;
    for (;;) {
      const line = this.lines[index];
      const key = keyAt(line, indent);
      const colon = indent + (key?.length ?? 0);
      if (key === undefined || key.length > MAX_KEY_LENGTH || NOT_STRING_KEYS.has(key) || line.charCodeAt(colon) !== 58 /* : */) unsupported();
      if (colon + 1 < line.length && line.charCodeAt(colon + 1) !== 32) unsupported();
      if (Object.hasOwn(map, key)) unsupported(); // duplicate key: yaml reports it
      this.next = index + 1;
      map[key] = this.valueAfter(line.slice(colon + 1).trim(), indent);
      index = this.peek();
      if (index < 0) return map;
      const nextIndent = indentOf(this.lines[index]);
      if (nextIndent < indent) return map;
      if (nextIndent > indent || this.lines[index].startsWith('-', indent)) unsupported();
    }
  }

  /** A block list whose entries start lines at `indent` with "- ". */
  list(lineIndex: number, indent: number): unknown[] {
    const items: unknown[] = [];
    let index = lineIndex;
    for (;;) {
      const line = this.lines[index];
      const start = indentOf(line.slice(indent + 1)) + indent + 1;
      if (start === indent + 1 || start >= line.length) unsupported(); // "-x" or a lone "-"
      this.next = index + 1;
      if (startsMapEntry(line, start)) items.push(this.mapping(index, start));
      else if (line.startsWith('|', start)) unsupported();
      else items.push(inlineValue(line.slice(start).trimEnd()));
      index = this.peek();
      if (index < 0) return items;
      const nextIndent = indentOf(this.lines[index]);
      if (nextIndent > indent) unsupported();
      if (nextIndent < indent || !isListEntry(this.lines[index], indent)) return items;
    }
  }

  /** The value of a mapping entry at `indent`, given what follows its colon on the same line. */
  valueAfter(rest: string, indent: number): unknown {
    if (rest === '' || rest.startsWith('#')) {
      const index = this.peek();
      if (index < 0) return null;
      const line = this.lines[index];
      const nested = indentOf(line);
      if (nested > indent) return isListEntry(line, nested) ? this.list(index, nested) : this.mapping(index, nested);
      if (nested === indent && isListEntry(line, nested)) return this.list(index, nested);
      return null;
    }
    if (rest === '|' || rest === '|-') return this.literal(indent, rest === '|-');
    return inlineValue(rest);
  }

  /** A literal block scalar of an entry at `parentIndent`; clip (`|`) or strip (`|-`) chomping. */
  literal(parentIndent: number, strip: boolean): string {
    const { lines } = this;
    const first = lines[this.next];
    const indent = first === undefined ? 0 : indentOf(first);
    // Leading blank lines and whitespace-only lines change how yaml finds the indentation.
    if (first === undefined || indent === first.length || indent <= parentIndent) unsupported();
    const content: string[] = [];
    let index = this.next;
    for (; index < lines.length; index++) {
      const line = lines[index];
      if (line === '') {
        content.push('');
        continue;
      }
      const lineIndent = indentOf(line);
      if (lineIndent === line.length) unsupported();
      if (lineIndent < indent) break;
      content.push(line.slice(indent));
    }
    while (content.length > 0 && content[content.length - 1] === '') content.pop();
    this.next = index;
    return strip ? content.join('\n') : `${content.join('\n')}\n`;
  }
}

function isListEntry(line: string, indent: number): boolean {
  return line.charCodeAt(indent) === 45 /* - */ && (line.length === indent + 1 || line.charCodeAt(indent + 1) === 32);
}

function startsMapEntry(line: string, start: number): boolean {
  const key = keyAt(line, start);
  const colon = start + (key?.length ?? 0);
  return key !== undefined && line.charCodeAt(colon) === 58 && (line.length === colon + 1 || line.charCodeAt(colon + 1) === 32);
}

function keyAt(line: string, start: number): string | undefined {
  KEY.lastIndex = start;
  return KEY.exec(line)?.[0];
}

/** A scalar (or empty flow collection) written on one line after "key: " or "- ". */
function inlineValue(text: string): unknown {
  const first = text.charAt(0);
  if (first === '"') return doubleQuoted(text);
  if (first === "'") return singleQuoted(text);
  if (first === '[' || first === '{') return flowCollection(text);
  // Indicators that start anything but a plain scalar (or a plain scalar this reader leaves to yaml).
  if ('?:,[]{}#&*!|>%@`'.includes(first)) unsupported();
  if (first === '-' && !/^-[0-9.]/.test(text)) unsupported();
  const comment = text.indexOf(' #');
  const plain = comment < 0 ? text : text.slice(0, comment).trimEnd();
  if (plain.includes(': ') || plain.endsWith(':')) unsupported();
  return resolvePlain(plain);
}

/** A one-line flow list or mapping of plain scalars, as in `metadata: { name: acme }` or
 * `platforms: [windows, linux]`; quotes and nesting are left to yaml. */
function flowCollection(text: string): unknown {
  const list = text.startsWith('[');
  if (!text.endsWith(list ? ']' : '}')) unsupported();
  const inner = text.slice(1, -1);
  if (/["'[\]{}#&*!|>%@`?]/.test(inner)) unsupported();
  if (inner.trim() === '') return list ? [] : {};
  const items = inner.split(',').map((item) => item.trim());
  if (items.some((item) => item === '')) unsupported();
  if (list) return items.map((item) => flowScalar(item));
  const map: Record<string, unknown> = {};
  for (const item of items) {
    const key = keyAt(item, 0);
    if (key === undefined || NOT_STRING_KEYS.has(key) || key.length > MAX_KEY_LENGTH || Object.hasOwn(map, key)) unsupported();
    if (!item.startsWith(': ', key.length)) unsupported();
    map[key] = flowScalar(item.slice(key.length + 2).trim());
  }
  return map;
}

function flowScalar(text: string): unknown {
  if (text.includes(':') || (text.startsWith('-') && !/^-[0-9.]/.test(text))) unsupported();
  return resolvePlain(text);
}

function doubleQuoted(text: string): string {
  if (text.length < 2 || !text.endsWith('"')) unsupported();
  // JSON strings are YAML double-quoted scalars with fewer escapes; other escapes go to yaml.
  for (let i = 1; i < text.length - 1; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) unsupported();
    if (c === 92 /* \ */) {
      if (!'"\\/bfnrtu'.includes(text.charAt(i + 1))) unsupported();
      i++;
    }
  }
  try {
    return JSON.parse(text) as string;
  } catch {
    return unsupported();
  }
}

function singleQuoted(text: string): string {
  if (text.length < 2 || !text.endsWith("'")) unsupported();
  const inner = text.slice(1, -1);
  if (inner.replaceAll("''", '').includes("'")) unsupported();
  return inner.replaceAll("''", "'");
}

/** The YAML 1.2 core schema, as the yaml package resolves it (yaml/dist/schema/core). */
function resolvePlain(text: string): unknown {
  // Most scalars are words: only these first characters can start a null, boolean or number.
  if (!/^[-+.~0-9nNtTfF]/.test(text) && text !== '') return text;
  if (/^(?:~|[Nn]ull|NULL)?$/.test(text)) return null;
  if (/^(?:[Tt]rue|TRUE)$/.test(text)) return true;
  if (/^(?:[Ff]alse|FALSE)$/.test(text)) return false;
  if (/^0o[0-7]+$/.test(text)) return parseInt(text.slice(2), 8);
  if (/^[-+]?[0-9]+$/.test(text)) return parseInt(text, 10);
  if (/^0x[0-9a-fA-F]+$/.test(text)) return parseInt(text.slice(2), 16);
  if (/^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/.test(text)) return text.endsWith('f') || text.endsWith('F') ? (text.startsWith('-') ? -Infinity : Infinity) : NaN;
  if (/^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/.test(text) || /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/.test(text)) return parseFloat(text);
  return text;
}

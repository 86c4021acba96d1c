// One policy file → its YAML documents as plain values, or errors with positions. Guards first:
// oversize files are not parsed, oversize documents and alias bombs are not converted.
// Files in the plain block style are read by the fast reader; the yaml package then parses them
// only if a position inside is asked for (an error to report, `explain`).
import { LineCounter, parseAllDocuments } from 'yaml';
import type { Document, EmptyStream, YAMLError } from 'yaml';
import { policyError } from '../errors.ts';
import type { PolicyError, RepoFile, SourcePosition } from '../model.ts';
import { findAliasProblem } from './alias-limit.ts';
import { readPlainYaml } from './plain-yaml.ts';
import { positioner } from './yaml-nodes.ts';
import type { Positioner } from './yaml-nodes.ts';

export interface YamlLimits {
  maxFileBytes: number;
  maxDocumentBytes: number;
  maxAliasCount: number;
}

export interface ParsedDocument {
  file: string;
  /** 0-based index of the document within its file. */
  index: number;
  value: unknown;
  at: Positioner;
  source: SourcePosition;
}

export interface ParsedFile {
  documents: ParsedDocument[];
  errors: PolicyError[];
}

export function parseYamlFile(file: RepoFile, limits: YamlLimits): ParsedFile {
  const fileStart = { file: file.path, line: 1, col: 1 };
  if (file.size > limits.maxFileBytes || file.text === undefined) {
    const message = `file is ${file.size} bytes; policy files may be at most ${limits.maxFileBytes} bytes`;
    return { documents: [], errors: [policyError('FILE_TOO_LARGE', message, fileStart)] };
  }
  const text = file.text;
  const plain = fitsOneDocument(text, limits) ? readPlainYaml(text) : undefined;
  if (plain) {
    const at = lazyPositioners(text, file.path);
    const documents = plain.map(({ index, value, line, col }) => ({ file: file.path, index, value, at: at(index), source: { file: file.path, line, col } }));
    return { documents, errors: [] };
  }
  const { lineCounter, docs } = parseDocuments(text);
  if (!Array.isArray(docs)) return { documents: [], errors: [] }; // empty stream: comments only
  const result: ParsedFile = { documents: [], errors: [] };
  docs.forEach((doc, index) => {
    const at = positioner(doc, lineCounter, file.path, doc.range[0]);
    const source = at.valueAt([]);
    if (doc.errors.length > 0) {
      result.errors.push(...syntaxErrors(doc.errors, text, at));
      return;
    }
    const bytes = Buffer.byteLength(text.slice(doc.range[0], doc.range[2]), 'utf8');
    if (bytes > limits.maxDocumentBytes) {
      const message = `document ${index + 1} is ${bytes} bytes; one document may be at most ${limits.maxDocumentBytes} bytes`;
      result.errors.push(policyError('DOCUMENT_TOO_LARGE', message, source));
      return;
    }
    const aliasProblem = findAliasProblem(doc, limits.maxAliasCount);
    if (aliasProblem) {
      const where = at.offset(aliasProblem.alias.range![0]);
      const name = `*${aliasProblem.alias.source}`;
      if (aliasProblem.reason === 'unresolved') {
        result.errors.push(policyError('YAML_SYNTAX', `alias ${name} names no anchor defined before it`, where));
      } else if (aliasProblem.reason === 'cycle') {
        result.errors.push(policyError('YAML_ALIAS_LIMIT', `alias ${name} refers to the node that contains it; that would expand forever`, where));
      } else {
        const message = `alias ${name} expands the document past ${limits.maxAliasCount} aliased nodes (an "alias bomb"); use fewer anchors and aliases`;
        result.errors.push(policyError('YAML_ALIAS_LIMIT', message, where));
      }
      return;
    }
    try {
      const value = doc.toJS({ maxAliasCount: limits.maxAliasCount }) as unknown;
      if (value === null || value === undefined) return; // comments only, or a bare `~`
      result.documents.push({ file: file.path, index, value, at, source });
    } catch (error) {
      result.errors.push(policyError('YAML_ALIAS_LIMIT', `aliases cannot be expanded: ${(error as Error).message}`, source));
    }
  });
  return result;
}

function parseDocuments(text: string): { lineCounter: LineCounter; docs: Document.Parsed[] | EmptyStream } {
  const lineCounter = new LineCounter();
  return { lineCounter, docs: parseAllDocuments(text, { lineCounter, uniqueKeys: true, prettyErrors: false, merge: true }) };
}

/** Whether the whole file is within the document size limit, so no document of it can exceed it. */
function fitsOneDocument(text: string, limits: YamlLimits): boolean {
  return text.length * 3 <= limits.maxDocumentBytes || Buffer.byteLength(text, 'utf8') <= limits.maxDocumentBytes;
}

/** Positions in the documents of a file the fast reader read: yaml parses it on first use. */
function lazyPositioners(text: string, file: string): (index: number) => Positioner {
  let parsed: { lineCounter: LineCounter; docs: Document.Parsed[] } | undefined;
  return (index) => {
    let at: Positioner | undefined;
    const get = (): Positioner => {
      if (!at) {
        parsed ??= parseDocuments(text) as { lineCounter: LineCounter; docs: Document.Parsed[] };
        const doc = parsed.docs[index];
        at = positioner(doc, parsed.lineCounter, file, doc.range[0]);
      }
      return at;
    };
    return {
      valueAt: (path) => get().valueAt(path),
      keyAt: (path) => get().keyAt(path),
      ownerAt: (path) => get().ownerAt(path),
      offset: (offset) => get().offset(offset),
    };
  };
}

/** The parser often reports one mistake several times; keep the first error per line. */
function syntaxErrors(errors: YAMLError[], text: string, at: Positioner): PolicyError[] {
  const seenLines = new Set<number>();
  const result: PolicyError[] = [];
  for (const error of errors) {
    const where = at.offset(error.pos[0]);
    if (seenLines.has(where.line)) continue;
    seenLines.add(where.line);
    result.push(describeSyntaxError(error, text, where));
  }
  return result;
}

function describeSyntaxError(error: YAMLError, text: string, where: SourcePosition): PolicyError {
  if (error.code === 'DUPLICATE_KEY') {
    // The parser marks only the key's first character; read the whole key from there.
    const key = /^("[^"\n]*"|'[^'\n]*'|[^:\n]*)/.exec(text.slice(error.pos[0]))![1].trim().replace(/^["']|["']$/g, '');
    return policyError('YAML_DUPLICATE_KEY', `duplicate key "${key}"; each key may appear once in a mapping`, where);
  }
  if (error.code === 'TAB_AS_INDENT') {
    return policyError('YAML_SYNTAX', 'tab character used for indentation; YAML indents with spaces only', where);
  }
  const detail = error.message.replace(/\s+at line \d+, column \d+:?[\s\S]*$/, '');
  return policyError('YAML_SYNTAX', `invalid YAML: ${detail.charAt(0).toLowerCase()}${detail.slice(1)}`, where);
}

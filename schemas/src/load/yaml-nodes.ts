// Finds YAML nodes by path and turns their offsets into file positions. Everything the validator
// reports points at a node of the source, so errors and provenance lines agree with the editor.
import { isAlias, isCollection, isMap, isScalar, isSeq } from 'yaml';
import type { Document, LineCounter, Node, Pair } from 'yaml';
import type { SourcePosition } from '../model.ts';

export type ValuePath = ReadonlyArray<string | number>;

/** One step of a walk: the value node and, inside a mapping, the pair's key node. */
interface Located {
  key?: Node;
  value?: Node | null;
}

/** Walks `path` from the document root as far as it goes; returns each step reached. */
function walkPath(doc: Document, path: ValuePath): Located[] {
  const steps: Located[] = [{ value: doc.contents as Node | null }];
  let node = doc.contents as Node | null;
  for (const segment of path) {
    node = followAlias(doc, node);
    if (isMap(node)) {
      const pair = (node.items as Pair[]).find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
      if (!pair) break;
      steps.push({ key: pair.key as Node, value: pair.value as Node | null });
      node = pair.value as Node | null;
    } else if (isSeq(node) && /^\d+$/.test(String(segment))) {
      const item = node.items[Number(segment)] as Node | undefined;
      if (item === undefined) break;
      steps.push({ value: item });
      node = item;
    } else {
      break;
    }
  }
  return steps;
}

function followAlias(doc: Document, node: Node | null | undefined): Node | null {
  if (node && isAlias(node)) return (node.resolve(doc) as Node | undefined) ?? null;
  return node ?? null;
}

export interface Positioner {
  /** Position of the value at `path`, or of the nearest ancestor that exists. */
  valueAt(path: ValuePath): SourcePosition;
  /** Position of the key naming the last segment of `path` (for unknown or misplaced keys). */
  keyAt(path: ValuePath): SourcePosition;
  /** Position of the mapping at `path` as a whole: its key line when it has one. */
  ownerAt(path: ValuePath): SourcePosition;
  /** Position of a byte offset in the file. */
  offset(offset: number): SourcePosition;
}

export function positioner(doc: Document, lineCounter: LineCounter, file: string, documentStart: number): Positioner {
  const offset = (at: number): SourcePosition => ({ file, ...lineCounter.linePos(at) });
  const start = (node: Node | null | undefined): number | undefined => (node?.range ? node.range[0] : undefined);
  const documentPosition = (): SourcePosition => offset(start(doc.contents as Node | null) ?? documentStart);
  const last = (path: ValuePath): Located | undefined => {
    const steps = walkPath(doc, path);
    return steps.length === path.length + 1 ? steps[steps.length - 1] : undefined;
  };
  const nearest = (path: ValuePath, pick: (step: Located) => Node | null | undefined): SourcePosition => {
    const steps = walkPath(doc, path);
    for (let i = steps.length - 1; i >= 1; i--) {
      const at = start(pick(steps[i])) ?? start(steps[i].key) ?? start(steps[i].value);
      if (at !== undefined) return offset(at);
    }
    return documentPosition();
  };
  // A mapping or list value starts at its first item, often on the next line; an empty value
  // (`spec:`) is a zero-width node after the colon. Either way the key is where a reader looks.
  const valueNode = (step: Located): Node | null | undefined =>
    step.key && (isCollection(step.value) || (isScalar(step.value) && step.value.value === null)) ? step.key : step.value;
  return {
    valueAt: (path) => nearest(path, valueNode),
    keyAt: (path) => {
      const step = last(path);
      return step?.key ? offset(start(step.key)!) : nearest(path, valueNode);
    },
    ownerAt: (path) => (path.length === 0 ? documentPosition() : nearest(path, (step) => step.key ?? step.value)),
    offset,
  };
}

/** Dotted, readable path for messages: spec.packages[0].name */
export function formatPath(path: ValuePath): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number' || /^\d+$/.test(segment)) text += `[${segment}]`;
    else text += text ? `.${segment}` : segment;
  }
  return text || 'the document';
}

// Finds the alias at which a document's alias expansion exceeds the limit ("billion laughs").
// The yaml package refuses such documents in toJS() but throws without a position; this walk
// mirrors its counting (Alias.resolve / getAliasCount in yaml 2.x) so the error can point at the
// alias the admin has to remove. toJS() still runs with the same limit as the last line of defence.
import { isAlias, isCollection, isPair, visit } from 'yaml';
import type { Alias, Document, Node } from 'yaml';

interface AnchorUse {
  count: number;
  aliasCount: number;
}

export interface AliasProblem {
  alias: Alias;
  reason: 'limit' | 'cycle' | 'unresolved';
}

export function findAliasProblem(doc: Document, maxAliasCount: number): AliasProblem | undefined {
  const anchors = new Map<Node, AnchorUse>();
  let problem: AliasProblem | undefined;
  visit(doc, {
    Node: (_key, node, path) => {
      if (isAlias(node)) {
        const target = node.resolve(doc) as Node | undefined;
        if (!target) {
          problem = { alias: node, reason: 'unresolved' };
          return visit.BREAK;
        }
        // An alias inside the node it names would expand forever (and makes a cyclic value).
        if (path.includes(target)) {
          problem = { alias: node, reason: 'cycle' };
          return visit.BREAK;
        }
        const use = anchors.get(target) ?? { count: 1, aliasCount: 0 };
        anchors.set(target, use);
        use.count += 1;
        if (use.aliasCount === 0) use.aliasCount = aliasCountOf(doc, target, anchors);
        if (use.count * use.aliasCount > maxAliasCount) {
          problem = { alias: node, reason: 'limit' };
          return visit.BREAK;
        }
      } else if (node.anchor && !anchors.has(node)) {
        anchors.set(node, { count: 1, aliasCount: 0 }); // toJS counts the anchored node itself
      }
      return undefined;
    },
  });
  return problem;
}

function aliasCountOf(doc: Document, node: unknown, anchors: Map<Node, AnchorUse>): number {
  if (isAlias(node)) {
    const use = anchors.get(node.resolve(doc) as Node);
    return use ? use.count * use.aliasCount : 0;
  }
  if (isCollection(node)) {
    let count = 0;
    for (const item of node.items) count = Math.max(count, aliasCountOf(doc, item, anchors));
    return count;
  }
  if (isPair(node)) return Math.max(aliasCountOf(doc, node.key, anchors), aliasCountOf(doc, node.value, anchors));
  return 1;
}

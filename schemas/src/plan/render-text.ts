// The plan for humans, in the manner of `terraform plan`: + added, ~ changed, - removed.
import type { CompiledPackage } from '../model.ts';
import { canonicalJson } from '../canonical-json.ts';
import type { GroupChange, NamedChanges, ObjectRef, Plan } from './plan.ts';
import { ANY } from './groups.ts';

const MARK = { added: '+', changed: '~', removed: '-' } as const;

export function renderPlanText(plan: Plan): string {
  const selectors = new Map(plan.fact_selected.map(({ document, facts }) => [document, describeSelector(facts)]));
  const note = (document: string) => (selectors.has(document) ? `  [facts: ${selectors.get(document)}]` : '');
  const lines: string[] = [];

  const objectCount = plan.objects.added.length + plan.objects.changed.length + plan.objects.removed.length;
  if (objectCount) {
    lines.push('Objects:');
    for (const status of ['added', 'changed', 'removed'] as const) {
      for (const object of plan.objects[status]) lines.push(`  ${MARK[status]} ${describeObject(object)}${note(`${object.kind}/${object.id}`)}`);
    }
    lines.push('');
  }

  if (plan.groups.length) {
    lines.push('Agent groups:');
    for (const group of plan.groups) {
      lines.push(`  ${MARK[group.status]} ${describeScope(group)}`);
      lines.push(...namedLines('script', 'Script', group.scripts, note));
      lines.push(...namedLines('external fact', 'ExternalFact', group.external_facts, note));
      for (const name of group.packages.added) lines.push(`      + package ${name}`);
      for (const name of group.packages.removed) lines.push(`      - package ${name}`);
      for (const { name, from, to } of group.packages.changed) lines.push(`      ~ package ${name}: ${describePackageChange(from, to)}`);
      for (const { key, from, to } of group.settings) lines.push(`      ~ setting ${key}: ${formatValue(from)} → ${formatValue(to)}`);
    }
    lines.push('');
  }

  if (!objectCount && !plan.groups.length) lines.push('No changes.', '');
  if (plan.groups.some((group) => mentionsFactSelected(group, selectors))) {
    lines.push('Objects marked [facts] apply only to agents whose facts match; groups are shown as if they match.', '');
  }
  lines.push(
    `Plan: ${plan.objects.added.length} objects added, ${plan.objects.changed.length} changed, ${plan.objects.removed.length} removed; ` +
      `${plan.groups.length} agent groups affected`,
  );
  return `${lines.join('\n')}\n`;
}

function describeObject({ kind, id, file }: ObjectRef): string {
  return `${kind}/${id} (${file})`;
}

function describeScope(group: GroupChange): string {
  const where = group.scope.startsWith(`${ANY}/${ANY} `) ? ' (in any location)' : group.scope.includes(`/${ANY} `) ? ' (in any location of its organization)' : '';
  const lifecycle = group.status === 'changed' ? '' : ` (location ${group.status})`;
  return `${group.scope}${where}${lifecycle}`;
}

function namedLines(label: string, kind: string, changes: NamedChanges, note: (document: string) => string): string[] {
  return (['added', 'changed', 'removed'] as const).flatMap((status) => changes[status].map((name) => `      ${MARK[status]} ${label} ${name}${note(`${kind}/${name}`)}`));
}

function describePackageChange(from: CompiledPackage, to: CompiledPackage): string {
  const keys = [...new Set([...Object.keys(from), ...Object.keys(to)])].sort();
  const record = (p: CompiledPackage) => p as unknown as Record<string, unknown>;
  return keys
    .filter((key) => canonicalJson(record(from)[key] ?? null) !== canonicalJson(record(to)[key] ?? null))
    .map((key) => `${key} ${formatValue(record(from)[key] ?? null)} → ${formatValue(record(to)[key] ?? null)}`)
    .join(', ');
}

function describeSelector(facts: Plan['fact_selected'][number]['facts']): string {
  return Object.entries(facts)
    .map(([path, value]) => `${path}=${Array.isArray(value) ? value.join('|') : String(value)}`)
    .join(', ');
}

function mentionsFactSelected(group: GroupChange, selectors: Map<string, string>): boolean {
  const names = (kind: string, changes: NamedChanges) => [...changes.added, ...changes.changed, ...changes.removed].map((name) => `${kind}/${name}`);
  return [...names('Script', group.scripts), ...names('ExternalFact', group.external_facts)].some((document) => selectors.has(document));
}

function formatValue(value: unknown): string {
  return value === null ? '(unset)' : typeof value === 'string' ? value : JSON.stringify(value);
}

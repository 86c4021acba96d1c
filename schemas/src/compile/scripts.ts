// Scripts and external facts that apply to an agent, with their content resolved and their limits
// defaulted from the effective settings. Every platform stays in the document: the agent skips a
// script meant for another platform and reports why, which is clearer than a silent absence.
import type { AgentIdentity, CompiledExternalFact, CompiledScript, Platform, Policy, PolicyDocument, ResolvedContent, Shell, Targets } from '../model.ts';
import type { Specificity } from '../targets.ts';
import type { EffectiveSettings } from './settings.ts';
import { compareText } from './compare.ts';

/** Decides whether `targets` selects the agent; the planner swaps in one that ignores facts. */
export type TargetMatcher = (targets: Targets | undefined, agent: AgentIdentity) => Specificity | null;

export const DEFAULT_ORDER = 100;

const PLATFORMS_BY_SHELL: Record<Shell, Platform[]> = {
  powershell: ['windows'],
  cmd: ['windows'],
  sh: ['linux', 'darwin'],
  bash: ['linux', 'darwin'],
  pwsh: ['windows', 'linux', 'darwin'],
};

export function defaultPlatforms(shell: Shell): Platform[] {
  return [...PLATFORMS_BY_SHELL[shell]];
}

export function compileScripts(policy: Policy, agent: AgentIdentity, settings: EffectiveSettings, matches: TargetMatcher): CompiledScript[] {
  const compiled: CompiledScript[] = [];
  for (const script of policy.scripts.values()) {
    if (matches(script.spec.targets, agent) === null) continue;
    const spec = script.spec;
    const body = contentOf(policy, script);
    const check = spec.check ? contentOf(policy, script, '#check') : undefined;
    compiled.push({
      name: script.id,
      shell: spec.shell,
      content: body.content,
      sha256: body.sha256,
      ...(spec.check && check ? { check: { shell: spec.check.shell ?? spec.shell, content: check.content, sha256: check.sha256 } } : {}),
      run: spec.run ?? 'every_iteration',
      ...(spec.interval_hours !== undefined ? { interval_hours: spec.interval_hours } : {}),
      ...(spec.schedule !== undefined ? { schedule: spec.schedule } : {}),
      timeout_seconds: spec.timeout_seconds ?? settings.scripts.timeout_seconds,
      max_output_bytes: spec.max_output_bytes ?? settings.scripts.max_output_bytes,
      platforms: spec.platforms ? [...spec.platforms] : defaultPlatforms(spec.shell),
      order: spec.order ?? DEFAULT_ORDER,
    });
  }
  return compiled.sort((a, b) => a.order - b.order || byName(a, b));
}

export function compileExternalFacts(policy: Policy, agent: AgentIdentity, settings: EffectiveSettings, matches: TargetMatcher): CompiledExternalFact[] {
  const compiled: CompiledExternalFact[] = [];
  for (const fact of policy.externalFacts.values()) {
    if (matches(fact.spec.targets, agent) === null) continue;
    const body = contentOf(policy, fact);
    compiled.push({
      name: fact.id,
      shell: fact.spec.shell,
      content: body.content,
      sha256: body.sha256,
      timeout_seconds: fact.spec.timeout_seconds ?? settings.external_facts.timeout_seconds,
      max_output_bytes: fact.spec.max_output_bytes ?? settings.external_facts.max_output_bytes,
      platforms: fact.spec.platforms ? [...fact.spec.platforms] : defaultPlatforms(fact.spec.shell),
    });
  }
  return compiled.sort(byName);
}

/** The loader resolves every `file`/`content`; a miss here is a loader bug, not a policy error. */
function contentOf(policy: Policy, document: PolicyDocument, suffix = ''): ResolvedContent {
  const key = `${document.kind}/${document.id}${suffix}`;
  const resolved = policy.contents.get(key);
  if (!resolved) throw new Error(`compile: no resolved content for ${key} (${document.source.file}:${document.source.line})`);
  return resolved;
}

function byName(a: { name: string }, b: { name: string }): number {
  return compareText(a.name, b.name);
}

// Scripts and external facts as they appear in a resources part: everything the spec says, with
// shell-derived defaults, but neither content (named by sha256, served from the content store) nor
// the timeouts and output caps that come from settings (filled in when a document is assembled), so
// one resources part serves every scope with the same applicable resources whatever its settings.
// Every platform stays in the document: the agent skips a script meant for another platform and
// reports why, which is clearer than a silent absence.
import type { AgentIdentity, CompiledExternalFact, CompiledScript, Platform, Policy, PolicyDocument, ResolvedContent, Shell, Targets } from '../model.ts';
import type { Specificity } from '../targets.ts';
import { compareText } from './compare.ts';

/** Decides whether `targets` selects the agent; the planner swaps in one that ignores facts. It may
 * look at the agent only through whether the organizations/locations/agents lists hold it, and its
 * facts: the compiler asks only about objects whose lists name the agent's organization, location or
 * name (or are empty), and shares results between agents that no list tells apart. */
export type TargetMatcher = (targets: Targets | undefined, agent: AgentIdentity) => Specificity | null;

export const DEFAULT_ORDER = 100;

type Limits = 'timeout_seconds' | 'max_output_bytes';

export type ScriptResource = Omit<CompiledScript, 'content' | 'check' | Limits> & Partial<Pick<CompiledScript, Limits>> & { check?: { shell: Shell; sha256: string } };
export type ExternalFactResource = Omit<CompiledExternalFact, 'content' | Limits> & Partial<Pick<CompiledExternalFact, Limits>>;

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

export function scriptResource(policy: Policy, script: PolicyDocument<'Script'>): ScriptResource {
  const spec = script.spec;
  return {
    name: script.id,
    shell: spec.shell,
    sha256: contentOf(policy, script).sha256,
    ...(spec.check ? { check: { shell: spec.check.shell ?? spec.shell, sha256: contentOf(policy, script, '#check').sha256 } } : {}),
    run: spec.run ?? 'every_iteration',
    ...(spec.interval_hours !== undefined ? { interval_hours: spec.interval_hours } : {}),
    ...(spec.schedule !== undefined ? { schedule: spec.schedule } : {}),
    ...(spec.catch_up_minutes !== undefined ? { catch_up_minutes: spec.catch_up_minutes } : {}),
    ...limitsOf(spec),
    platforms: spec.platforms ? [...spec.platforms] : defaultPlatforms(spec.shell),
    order: spec.order ?? DEFAULT_ORDER,
  };
}

export function externalFactResource(policy: Policy, fact: PolicyDocument<'ExternalFact'>): ExternalFactResource {
  return {
    name: fact.id,
    shell: fact.spec.shell,
    sha256: contentOf(policy, fact).sha256,
    ...limitsOf(fact.spec),
    platforms: fact.spec.platforms ? [...fact.spec.platforms] : defaultPlatforms(fact.spec.shell),
  };
}

/** Scripts run by (order, name). */
export function byOrderThenName(a: { order: number; name: string }, b: { order: number; name: string }): number {
  return a.order - b.order || byName(a, b);
}

export function byName(a: { name: string }, b: { name: string }): number {
  return compareText(a.name, b.name);
}

/** The limits the spec sets; the memory limit has no setting behind it, so it is only ever here. */
function limitsOf(spec: { timeout_seconds?: number; max_output_bytes?: number; max_memory_mb?: number }): Partial<Record<Limits | 'max_memory_mb', number>> {
  return {
    ...(spec.timeout_seconds !== undefined ? { timeout_seconds: spec.timeout_seconds } : {}),
    ...(spec.max_output_bytes !== undefined ? { max_output_bytes: spec.max_output_bytes } : {}),
    ...(spec.max_memory_mb !== undefined ? { max_memory_mb: spec.max_memory_mb } : {}),
  };
}

/** The loader resolves every `file`/`content`; a miss here is a loader bug, not a policy error. */
function contentOf(policy: Policy, document: PolicyDocument, suffix = ''): ResolvedContent {
  const key = `${document.kind}/${document.id}${suffix}`;
  const resolved = policy.contents.get(key);
  if (!resolved) throw new Error(`compile: no resolved content for ${key} (${document.source.file}:${document.source.line})`);
  return resolved;
}

// Why an agent gets each setting, like `puppet lookup --explain`: the winning value with the
// document, file and line that set it, and the layers it overrode. Line numbers live here, not in
// the compiled document, because they only matter to a human reading the repository.
import type { AgentIdentity, Policy } from '../model.ts';
import { mergeSettings, settingsLayers, type LeafAssignment } from './settings.ts';

export interface SettingSource {
  value: unknown;
  /** "Kind/id", or "default" for a schema default. */
  document: string;
  file?: string;
  line?: number;
}

export interface ExplainedSetting extends SettingSource {
  key: string;
  /** Earlier layers that set this key and lost, in merge order (schema default first). */
  overridden: SettingSource[];
}

export function explainSettings(policy: Policy, agent: AgentIdentity): ExplainedSetting[] {
  const { history } = mergeSettings(settingsLayers(policy, agent));
  return [...history.keys()].sort().map((key) => {
    const sources = history.get(key)!.map((assignment) => sourceOf(key, assignment));
    const winner = sources.at(-1)!;
    return { key, ...winner, overridden: sources.slice(0, -1) };
  });
}

function sourceOf(key: string, { value, layer }: LeafAssignment): SettingSource {
  if (!layer.source) return { value, document: layer.document };
  const position = layer.source.positionOf(['spec', 'settings', ...key.split('.')]);
  return { value, document: layer.document, file: position.file, line: position.line };
}

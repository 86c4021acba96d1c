import { loadJsonFile, saveJsonFile } from '../../platform/json-file.ts';
import type { ChocoState } from './converge-choco.ts';

function isChocoState(value: unknown): value is ChocoState {
  const state = value as ChocoState | null;
  return typeof state === 'object' && state !== null && (state.lastUpgradeAllAt === undefined || typeof state.lastUpgradeAllAt === 'string');
}

/** When `upgrade all` last ran survives restarts, so a restarting agent does not upgrade everything. */
export function loadChocoState(file: string): Promise<ChocoState> {
  return loadJsonFile(file, () => ({}), isChocoState);
}

export function saveChocoState(file: string, state: ChocoState): Promise<void> {
  return saveJsonFile(file, state);
}

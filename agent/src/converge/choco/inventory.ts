import { CHOCO_INVENTORY_ARGS } from './command-line.ts';
import type { ChocoRunner } from './choco-runner.ts';
import { parseChocoList, parseChocoOutdated, parseChocoPinList } from './parse.ts';
import type { ChocoInventory } from './plan.ts';

/** One entry of the `agent_choco_packages` report. */
export interface AgentChocoPackage {
  name: string;
  version: string;
  pinned: boolean;
}

const INVENTORY_TIMEOUT_SECONDS = 300;

export type InventoryResult = { ok: true; inventory: ChocoInventory } | { ok: false; reason: string };

/** Reads what choco has installed, what is outdated and what is pinned. `outdated` queries the
 * sources and is skipped when nothing asks for `latest`. */
export async function readChocoInventory(run: ChocoRunner, withOutdated: boolean): Promise<InventoryResult> {
  const read = async (args: readonly string[]) => {
    const result = await run([...args], INVENTORY_TIMEOUT_SECONDS);
    if (result.exitCode !== 0) return { ok: false as const, reason: `choco ${args.join(' ')} failed (exit ${result.exitCode ?? result.signal ?? result.spawnError}): ${(result.stderr || result.stdout).trim()}` };
    return { ok: true as const, text: result.stdout };
  };
  const list = await read(CHOCO_INVENTORY_ARGS.list);
  if (!list.ok) return list;
  const pins = await read(CHOCO_INVENTORY_ARGS.pins);
  if (!pins.ok) return pins;
  const outdated = withOutdated ? await read(CHOCO_INVENTORY_ARGS.outdated) : { ok: true as const, text: '' };
  if (!outdated.ok) return outdated;
  return { ok: true, inventory: { installed: parseChocoList(list.text), pins: parseChocoPinList(pins.text), outdated: parseChocoOutdated(outdated.text) } };
}

export function toAgentChocoPackages(inventory: ChocoInventory): AgentChocoPackage[] {
  const pinned = new Set(inventory.pins.map((p) => p.name.toLowerCase()));
  return inventory.installed.map((p) => ({ name: p.name, version: p.version, pinned: pinned.has(p.name.toLowerCase()) }));
}

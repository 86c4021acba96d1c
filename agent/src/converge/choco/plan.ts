import type { CompiledPackage } from '@pswm/schemas';
import type { InstalledPackage, OutdatedPackage } from './parse.ts';
import { sameVersion } from './version.ts';

interface PackageOptions {
  package: string;
  source?: string;
  installArgs?: string;
  timeoutSeconds?: number;
}

export type ChocoOperation =
  | ({ op: 'install'; version?: string } & PackageOptions)
  | ({ op: 'upgrade'; version?: string; allowDowngrade?: boolean } & PackageOptions)
  | ({ op: 'uninstall' } & PackageOptions)
  | { op: 'pin-add'; package: string }
  | { op: 'pin-remove'; package: string }
  /** `ignorePinned`: upgrade machine-pinned packages too (`choco.skip_pinned: false`). */
  | { op: 'upgrade-all'; except: string[]; ignorePinned?: boolean };

export interface ChocoInventory {
  installed: InstalledPackage[];
  outdated: OutdatedPackage[];
  pins: InstalledPackage[];
}

export interface PackagePlan {
  package: CompiledPackage;
  /** Empty when the package is in sync. */
  operations: ChocoOperation[];
  /** What differs from the declaration, for the drift report. */
  drift: string[];
}

export interface ChocoPlan {
  packages: PackagePlan[];
  upgradeAll?: Extract<ChocoOperation, { op: 'upgrade-all' }>;
}

export interface ChocoPlanInput {
  packages: readonly CompiledPackage[];
  inventory: ChocoInventory;
  upgradeAll: { enabled: boolean; intervalHours: number; lastRunAt?: string; skipPinned: boolean };
  now: Date;
}

/** Decides the choco commands that bring the machine to the declared packages. Pure. */
export function planChoco(input: ChocoPlanInput): ChocoPlan {
  // choco package ids are case-insensitive
  const byName = <T extends { name: string }>(list: T[]) => new Map(list.map((item) => [item.name.toLowerCase(), item]));
  const installed = byName(input.inventory.installed);
  const outdated = byName(input.inventory.outdated);
  const pins = byName(input.inventory.pins);
  const packages = input.packages.map((declared) => {
    const key = declared.name.toLowerCase();
    return planPackage(declared, installed.get(key)?.version, outdated.get(key)?.available, pins.has(key));
  });
  if (!upgradeAllDue(input)) return { packages };
  const ignorePinned = !input.upgradeAll.skipPinned;
  return { packages, upgradeAll: { op: 'upgrade-all', except: heldByPolicy(input.packages, ignorePinned), ...(ignorePinned ? { ignorePinned } : {}) } };
}

function planPackage(declared: CompiledPackage, installedVersion: string | undefined, availableVersion: string | undefined, pinned: boolean): PackagePlan {
  const options: PackageOptions = {
    package: declared.name,
    ...(declared.source ? { source: declared.source } : {}),
    ...(declared.install_args ? { installArgs: declared.install_args } : {}),
    ...(declared.timeout_seconds ? { timeoutSeconds: declared.timeout_seconds } : {}),
  };
  if (declared.ensure === 'absent') {
    if (installedVersion === undefined) return { package: declared, operations: [], drift: [] };
    return {
      package: declared,
      operations: [...(pinned ? [{ op: 'pin-remove', package: declared.name } as const] : []), { op: 'uninstall', ...options }],
      drift: [`${installedVersion} installed, should be absent`],
    };
  }
  const change = packageChange(declared, options, installedVersion, availableVersion);
  const operations: ChocoOperation[] = [];
  const drift: string[] = change ? [change.drift] : [];
  // choco upgrade skips a pinned package ("pinned, skipping"), so the pin comes off first and
  // goes back on afterwards when the declaration wants it
  if (change && pinned) operations.push({ op: 'pin-remove', package: declared.name });
  if (change) operations.push(change.operation);
  const pinnedAfter = pinned && !change;
  if (declared.pin && !pinnedAfter) {
    operations.push({ op: 'pin-add', package: declared.name });
    if (!pinned) drift.push('not pinned');
  }
  if (!declared.pin && pinnedAfter) {
    operations.push({ op: 'pin-remove', package: declared.name });
    drift.push('pinned, should not be');
  }
  return { package: declared, operations, drift };
}

function packageChange(declared: CompiledPackage, options: PackageOptions, installedVersion: string | undefined, availableVersion: string | undefined): { operation: ChocoOperation; drift: string } | undefined {
  const version = declared.ensure === 'present' ? declared.version : undefined;
  if (installedVersion === undefined) return { operation: { op: 'install', ...(version ? { version } : {}), ...options }, drift: 'not installed' };
  if (version && !sameVersion(installedVersion, version)) {
    return { operation: { op: 'upgrade', version, allowDowngrade: true, ...options }, drift: `${installedVersion} installed, ${version} wanted` };
  }
  if (declared.ensure === 'latest' && availableVersion !== undefined && !sameVersion(availableVersion, installedVersion)) {
    return { operation: { op: 'upgrade', ...options }, drift: `${installedVersion} installed, ${availableVersion} available` };
  }
  return undefined;
}

function upgradeAllDue(input: ChocoPlanInput): boolean {
  if (!input.upgradeAll.enabled) return false;
  if (!input.upgradeAll.lastRunAt) return true;
  return input.now.getTime() - Date.parse(input.upgradeAll.lastRunAt) >= input.upgradeAll.intervalHours * 3_600_000;
}

/** Packages the policy holds must not be moved by `upgrade all`: those at a fixed version, and,
 * when pins are ignored (skip_pinned: false, for pins set on the machine), those the policy pins.
 * With pins respected choco leaves pinned packages alone by itself. */
function heldByPolicy(packages: readonly CompiledPackage[], ignoringPins: boolean): string[] {
  return packages.filter((p) => (p.ensure === 'present' && p.version) || (ignoringPins && p.pin)).map((p) => p.name).sort();
}

import type { ChocoOperation } from './plan.ts';

/** choco's convention for values that may hold spaces or separators: single quotes inside the
 * argument (the docs' `-s="'a;b'"` once the shell has removed the double quotes); choco strips
 * them. Passed as one argv element, so no shell quoting is involved. */
function quoted(value: string): string {
  return `'${value}'`;
}

/** Arguments for `choco` (without the program name). `--ignore-pinned` only for `upgrade all` with
 * `choco.skip_pinned: false`: on `upgrade` it means "upgrade pinned packages anyway", the opposite
 * of leaving them alone. */
export function buildChocoArgs(operation: ChocoOperation): string[] {
  switch (operation.op) {
    case 'install':
    case 'upgrade':
      return [
        operation.op,
        operation.package,
        ...(operation.version ? [`--version=${operation.version}`] : []),
        ...(operation.op === 'upgrade' && operation.allowDowngrade ? ['--allow-downgrade'] : []),
        '-y',
        '--no-progress',
        '-r',
        ...(operation.source ? [`-s=${quoted(operation.source)}`] : []),
        ...(operation.installArgs ? [`--install-arguments=${quoted(operation.installArgs)}`] : []),
      ];
    case 'uninstall':
      return ['uninstall', operation.package, '-y', '--no-progress', '-r'];
    case 'pin-add':
      return ['pin', 'add', `-n=${operation.package}`, '-r'];
    case 'pin-remove':
      return ['pin', 'remove', `-n=${operation.package}`, '-r'];
    case 'upgrade-all':
      return [
        'upgrade',
        'all',
        '-y',
        '--no-progress',
        '-r',
        ...(operation.ignorePinned ? ['--ignore-pinned'] : []),
        ...(operation.except.length ? [`--except=${quoted(operation.except.join(','))}`] : []),
      ];
  }
}

export const CHOCO_INVENTORY_ARGS = {
  list: ['list', '-r'],
  outdated: ['outdated', '-r'],
  pins: ['pin', 'list', '-r'],
} as const;

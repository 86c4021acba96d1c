export type ChocoOutcome = 'ok' | 'reboot-required' | 'failed';

// POSIX keeps only the low 8 bits of an exit status, so a choco that is not on Windows (under
// mono, or the test stand-in) reporting 3010 arrives as 194. choco documents no other code that
// lands on these values, so they are read back as the codes choco meant.
const TRUNCATED_ON_POSIX: ReadonlyMap<number, number> = new Map([
  [3010 & 0xff, 3010],
  [1641 & 0xff, 1641],
  [-1 & 0xff, -1],
]);

/** choco's exit code as choco meant it, and what it says: 0 success; 1641 (reboot initiated) and
 * 3010 (reboot required) success with a reboot pending; anything else failure (REFERENCE.md). */
export function interpretChocoExit(rawExitCode: number | null, platform: NodeJS.Platform): { exitCode: number | null; outcome: ChocoOutcome } {
  const exitCode = rawExitCode !== null && platform !== 'win32' ? (TRUNCATED_ON_POSIX.get(rawExitCode) ?? rawExitCode) : rawExitCode;
  if (exitCode === 0) return { exitCode, outcome: 'ok' };
  if (exitCode === 1641 || exitCode === 3010) return { exitCode, outcome: 'reboot-required' };
  return { exitCode, outcome: 'failed' };
}

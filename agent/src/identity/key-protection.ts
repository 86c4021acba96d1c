// Who may read the private key. On POSIX the file mode does it (0600, the agent's account only). On
// Windows, mode bits mean nothing: an ACL restricted to SYSTEM and Administrators replaces the
// inherited one. Well-known SIDs, not names, because group names are translated on non-English
// Windows ("Administrateurs").
export interface CommandLine {
  command: string;
  args: string[];
}

export const SYSTEM_SID = '*S-1-5-18';
export const ADMINISTRATORS_SID = '*S-1-5-32-544';

/** icacls lines that leave `file` readable by SYSTEM and Administrators only: drop inherited
 * entries, then grant full control to the two (replacing any explicit entries they had). */
export function windowsKeyAclCommands(file: string): CommandLine[] {
  return [
    { command: 'icacls', args: [file, '/inheritance:r'] },
    { command: 'icacls', args: [file, '/grant:r', `${SYSTEM_SID}:F`, `${ADMINISTRATORS_SID}:F`] },
  ];
}

/** What protecting a key file means on `platform`: a file mode to set, or commands to run. */
export function keyProtectionPlan(file: string, platform: NodeJS.Platform): { mode: number; commands: CommandLine[] } {
  return platform === 'win32' ? { mode: 0o600, commands: windowsKeyAclCommands(file) } : { mode: 0o600, commands: [] };
}

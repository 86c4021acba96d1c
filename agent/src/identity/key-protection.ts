// Who may read the private key, and in what form it is on disk. Pure: the plans and formats here
// are carried out by key-pair.ts.
//
// POSIX: the file mode (0600, the agent's account only).
// Windows: two layers. (1) The key's folder gets a protected ACL — inheritance removed, full control
// for SYSTEM and Administrators, inherited by everything created inside — *before* the key is
// written, so the key file inherits it from its first byte (an ACL set on the file afterwards leaves
// a window where it has the folder's inherited permissions). (2) The file holds a DPAPI blob, not
// the PEM: CryptProtectData with machine scope plus an entropy (pswm-native.exe), decrypted in
// memory only, so a copy of the file (a backup, another machine) is useless.
// Well-known SIDs, not names, because group names are translated on non-English Windows
// ("Administrateurs").
export interface CommandLine {
  command: string;
  args: string[];
}

export const SYSTEM_SID = '*S-1-5-18';
export const ADMINISTRATORS_SID = '*S-1-5-32-544';

/** icacls arguments that leave `dir` and everything created in it readable by SYSTEM and
 * Administrators only: inherited entries dropped, full control granted to the two (replacing any
 * explicit entries they had), (OI)(CI) so files and folders created inside inherit exactly that. */
export function protectedFolderAclArgs(dir: string): string[] {
  return [dir, '/inheritance:r', '/grant:r', `${SYSTEM_SID}:(OI)(CI)F`, `${ADMINISTRATORS_SID}:(OI)(CI)F`];
}

/** The DPAPI entropy ("optional entropy"): a blob protected with it can be decrypted only by a
 * caller that passes the same bytes, so another program using machine-scope DPAPI on the same
 * machine cannot decrypt the key by accident. Changing it makes every stored key unreadable. */
export const KEY_ENTROPY = 'pswm-agent-key/v1';

/** First line of a DPAPI-protected agent.key; the blob follows in base64. */
export const DPAPI_HEADER = 'pswm-dpapi-machine/v1';

export type StoredKey = { kind: 'dpapi'; blob: Buffer } | { kind: 'pem'; pem: string };

export function encodeProtectedKey(blob: Uint8Array): string {
  return `${DPAPI_HEADER}\n${Buffer.from(blob).toString('base64')}\n`;
}

/** What a key file holds: a DPAPI envelope or (Linux, or Windows before protection) the PEM. */
export function parseStoredKey(text: string): StoredKey {
  const [first, ...rest] = text.split(/\r?\n/);
  if (first === DPAPI_HEADER) return { kind: 'dpapi', blob: Buffer.from(rest.join(''), 'base64') };
  return { kind: 'pem', pem: text };
}

export interface KeyProtectionPlan {
  /** Commands that protect the key's folder, run before the key is written. */
  folderCommands: CommandLine[];
  /** Store a DPAPI blob instead of the PEM. */
  dpapi: boolean;
  /** POSIX mode of the key file. */
  mode: number;
}

/** What protecting a key file in `dir` means on `platform`; `helperAvailable`: pswm-native.exe is
 * beside the executable (the single-file build ships it; a development checkout has none). */
export function keyProtectionPlan(dir: string, platform: NodeJS.Platform, helperAvailable: boolean): KeyProtectionPlan {
  if (platform !== 'win32') return { folderCommands: [], dpapi: false, mode: 0o600 };
  return { folderCommands: [{ command: 'icacls.exe', args: protectedFolderAclArgs(dir) }], dpapi: helperAvailable, mode: 0o600 };
}

/** The line `pswm status` prints as "key protection". */
export function describeKeyProtection(stored: StoredKey['kind'] | 'missing', platform: NodeJS.Platform, fileMode?: number): string {
  if (stored === 'missing') return 'no key yet (run "pswm gencert")';
  if (platform === 'win32') {
    return stored === 'dpapi' ? 'DPAPI (machine) + ACL' : 'ACL only: the key is stored as plain PEM (pswm-native.exe, which does DPAPI, is not beside the executable)';
  }
  const mode = (fileMode ?? 0) & 0o777;
  return `file mode ${mode.toString(8).padStart(4, '0')}${mode & 0o077 ? ' (readable by other users: chmod 600 it)' : ''}`;
}

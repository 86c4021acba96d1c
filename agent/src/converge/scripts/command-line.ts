import type { Platform, Shell } from '@pswm/schemas';

export interface CommandLine {
  command: string;
  args: string[];
}

export type ScriptCommand = ({ ok: true } & CommandLine) | { ok: false; reason: string };

const WINDOWS_ONLY: ReadonlySet<Shell> = new Set(['powershell', 'cmd']);
const POSIX_ONLY: ReadonlySet<Shell> = new Set(['sh', 'bash']);

/** File extension the shell needs to accept a script file (powershell refuses `-File x` without
 * `.ps1`; cmd decides by extension whether a file is a batch file). */
export function scriptExtension(shell: Shell): string {
  if (shell === 'powershell' || shell === 'pwsh') return '.ps1';
  if (shell === 'cmd') return '.cmd';
  return '.sh';
}

/** The process to start for a script file. Pure: whether the program is installed is checked by
 * the caller. Nothing here elevates (no sudo, no runas, no -Verb RunAs): scripts run with the
 * agent's own rights. */
export function buildScriptCommand(shell: Shell, scriptFile: string, platform: Platform): ScriptCommand {
  if (platform !== 'windows' && WINDOWS_ONLY.has(shell)) return { ok: false, reason: `shell ${shell} is only available on windows, this is ${platform}` };
  if (platform === 'windows' && POSIX_ONLY.has(shell)) return { ok: false, reason: `shell ${shell} is not supported on windows` };
  switch (shell) {
    case 'sh':
    case 'bash':
      return { ok: true, command: shell, args: [scriptFile] };
    case 'powershell':
      return { ok: true, command: 'powershell.exe', args: ['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-File', scriptFile] };
    case 'pwsh':
      // ExecutionPolicy only exists on Windows; elsewhere pwsh rejects nothing and the flag is noise.
      return platform === 'windows'
        ? { ok: true, command: 'pwsh.exe', args: ['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-File', scriptFile] }
        : { ok: true, command: 'pwsh', args: ['-NoProfile', '-NonInteractive', '-File', scriptFile] };
    case 'cmd':
      // /d skips the AutoRun registry commands, which would otherwise run before every script.
      return { ok: true, command: 'cmd.exe', args: ['/d', '/c', scriptFile] };
  }
}

/** Bytes written to the script file: powershell.exe 5.1 reads a BOM-less .ps1 in the ANSI code
 * page (mangling non-ASCII), and cmd mis-parses labels and GOTO in LF-only batch files. */
export function scriptFileContent(shell: Shell, content: string): string {
  if (shell === 'powershell' || shell === 'pwsh') return '\uFEFF' + content;
  if (shell === 'cmd') return content.replace(/\r?\n/g, '\r\n');
  return content;
}

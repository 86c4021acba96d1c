import type { Platform } from '@pswm/schemas';

export const SERVICE_NAME = 'pswm';
export const SYSTEMD_UNIT_PATH = '/etc/systemd/system/pswm.service';
export const PROFILE_SCRIPT_PATH = '/etc/profile.d/pswm.sh';
/** First line of every file install_svc writes outside the data folder: uninstall_svc removes a
 * file only when it carries this marker, never one an administrator wrote. */
export const MANAGED_MARKER = '# Managed by pswm install_svc; removed by pswm uninstall_svc.';

export interface ServiceCommandLine {
  /** The program that runs the agent (the Node 24 binary, or a packaged pswm executable). */
  execPath: string;
  /** Arguments before the subcommand: the agent's entry script; empty for a packaged executable. */
  entry?: string;
  /** Node options for the service only (SERVICE_NODE_FLAGS), before the entry script. */
  nodeFlags?: readonly string[];
  dataDir: string;
}

/** The Node options the compiled copy runs with as a service: an idle agent waits on timers and
 * sockets, so V8's optimizing compilers buy nothing but their memory (--lite-mode: interpreter
 * only, feedback allocated lazily; it also drops WebAssembly, so never for the TypeScript sources),
 * and a 1 MB young generation is plenty for its allocation rate. Measured in docs/BENCHMARKS.md
 * "Agent". No --max-old-space-size: a large desired state must not crash it. */
export const SERVICE_NODE_FLAGS: readonly string[] = ['--lite-mode', '--max-semi-space-size=1'];

/** The service's command line as argv: program, node flags, entry, `service`. */
export function serviceArgv(opts: ServiceCommandLine): string[] {
  return [opts.execPath, ...(opts.entry ? [...(opts.nodeFlags ?? []), opts.entry] : []), 'service'];
}

/** systemd quoting: an argument with spaces, quotes or backslashes goes in double quotes with
 * `\` and `"` escaped; `%` is doubled because systemd expands specifiers in ExecStart. */
function systemdQuote(arg: string): string {
  const escaped = arg.replace(/%/g, '%%');
  if (!/[\s"\\']/.test(escaped)) return escaped;
  return `"${escaped.replace(/[\\"]/g, '\\$&')}"`;
}

function shellQuote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** The systemd unit: started at boot, restarted when it fails (not when stopped on purpose). */
export function systemdUnit(opts: ServiceCommandLine): string {
  const exec = serviceArgv(opts).map(systemdQuote).join(' ');
  return [
    MANAGED_MARKER,
    '[Unit]',
    'Description=pswm agent (GitOps configuration manager)',
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${exec}`,
    `Environment=${systemdQuote(`PSWM_HOME=${opts.dataDir}`)}`,
    `WorkingDirectory=${systemdQuote(opts.dataDir)}`,
    'Restart=on-failure',
    'RestartSec=10',
    // exit 3: the server revoked this agent; restarting cannot help
    'RestartPreventExitStatus=3',
    // files the agent creates (logs, state, script copies) are not world-readable
    'UMask=0027',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

/** /etc/profile.d script that puts the data folder on PATH for login shells, guarded so that
 * sourcing it twice (or a PATH that already has it) adds nothing. */
export function profileScript(dataDir: string): string {
  const dir = shellQuote(dataDir);
  return `${MANAGED_MARKER}\ncase ":$PATH:" in\n  *:${dir}:*) ;;\n  *) PATH="$PATH:"${dir}; export PATH ;;\nesac\n`;
}

/** `pswm` in the data folder, so the folder on PATH gives administrators the command. */
export function launcherScript(opts: ServiceCommandLine, platform: Platform): { name: string; content: string } {
  if (platform === 'windows') {
    const args = [opts.execPath, ...(opts.entry ? [opts.entry] : [])].map((a) => `"${a}"`).join(' ');
    return { name: 'pswm.cmd', content: `@rem ${MANAGED_MARKER.slice(2)}\r\n@${args} %*\r\n` };
  }
  const args = [opts.execPath, ...(opts.entry ? [opts.entry] : [])].map(shellQuote).join(' ');
  return { name: 'pswm', content: `#!/bin/sh\n${MANAGED_MARKER}\nexec ${args} "$@"\n` };
}

export function isManagedFile(text: string): boolean {
  return text.includes(MANAGED_MARKER.slice(2));
}

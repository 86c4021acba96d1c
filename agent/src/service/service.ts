import path from 'node:path';
import type { Platform } from '@pswm/schemas';
import type { Logger } from '../logs/logger.ts';
import { installLinuxService, uninstallLinuxService } from './linux-service.ts';
import { findCompiledCopy, isCompiledCopy, runningCopyMain } from './compiled-copy.ts';
import { createRecorder, type ServiceReport } from './report.ts';
import { SERVICE_NODE_FLAGS } from './unit-files.ts';
import { installWindowsService, uninstallWindowsService } from './windows-service.ts';
import { runningBuild } from './build-identity.ts';
import { WRAPPER_FILES } from './winsw-config.ts';

export type { ServiceAction, ServiceReport } from './report.ts';

export interface ServiceOptions {
  /** Prefix for every path on Linux ("/" by default); anything else (tests) writes files under it
   * and runs no command. On Windows only "/" executes; otherwise the plan is reported. */
  root?: string;
  platform: Platform;
  dataDir: string;
  /** The program the service starts: process.execPath (Node 24) or a packaged pswm executable. */
  execPath: string;
  /** The entry script passed to execPath (agent/bin/pswm.js); omit for a packaged executable. */
  entry?: string;
  /** Node options for the service, before the entry script (SERVICE_NODE_FLAGS). */
  nodeFlags?: readonly string[];
  /** Windows: the service wrapper shipped beside pswm.exe (pswm-service.exe). */
  wrapperSource?: string;
  /** Report what would change and change nothing. */
  dryRun?: boolean;
  log?: Logger;
}

const OPERATIONS = {
  install_svc: { linux: installLinuxService, windows: installWindowsService },
  uninstall_svc: { linux: uninstallLinuxService, windows: uninstallWindowsService },
} as const;

async function runOperation(operation: keyof typeof OPERATIONS, opts: ServiceOptions): Promise<ServiceReport> {
  const recorder = createRecorder(operation, opts.log);
  const root = opts.root ?? '/';
  if (opts.platform === 'windows') {
    // sc.exe and reg.exe exist only on Windows: anywhere else the Windows plan is reported for review
    await OPERATIONS[operation].windows({ ...opts, execute: root === '/' && !opts.dryRun && process.platform === 'win32', recorder });
  } else if (opts.platform === 'linux') {
    await OPERATIONS[operation].linux({ ...opts, root, dryRun: opts.dryRun ?? false, recorder });
  } else {
    recorder.record({ step: operation, target: opts.platform, status: 'failed', detail: `no service installer for ${opts.platform}` });
  }
  return recorder.report();
}

/** `pswm install_svc`: data folder with restricted permissions, the service (automatic start,
 * restart on failure), the data folder on the system PATH if absent. Idempotent: a second run
 * reports every file 'unchanged'. */
export function installService(opts: ServiceOptions): Promise<ServiceReport> {
  return runOperation('install_svc', opts);
}

/** `pswm uninstall_svc`: stops and removes the service and the PATH entry; keeps the data folder. */
export function uninstallService(opts: ServiceOptions): Promise<ServiceReport> {
  return runOperation('uninstall_svc', opts);
}

/** One line per action, for the CLI. */
export function formatServiceReport(report: ServiceReport): string {
  const width = Math.max(0, ...report.actions.map((a) => a.status.length));
  return report.actions.map((a) => `${a.status.padEnd(width)}  ${a.step}: ${a.target}${a.detail ? ` (${a.detail})` : ''}`).join('\n') + (report.actions.length ? '\n' : '');
}

/** What the service runs: the compiled copy of the agent (this very copy, or agent/dist/ when it
 * was built from the current sources) with SERVICE_NODE_FLAGS; else the running entry script (the
 * TypeScript sources) without them — --lite-mode has no WebAssembly, which Node's type stripper
 * needs — and the reason in `note`. */
export async function serviceCommandLine(): Promise<{ execPath: string; entry?: string; nodeFlags: readonly string[]; wrapperSource?: string; note?: string }> {
  // a single-file build is its own program: no entry script, no Node options (V8 flags cannot be
  // passed to a single executable), the wrapper beside it
  if (runningBuild()) return { execPath: process.execPath, nodeFlags: [], wrapperSource: path.join(path.dirname(process.execPath), WRAPPER_FILES.exe) };
  const running = process.argv[1] ? path.resolve(process.argv[1]) : undefined;
  const compiled = { execPath: process.execPath, nodeFlags: SERVICE_NODE_FLAGS };
  if (await isCompiledCopy()) return { ...compiled, entry: runningCopyMain() };
  const copy = await findCompiledCopy();
  if (copy.usable) return { ...compiled, entry: copy.main };
  return { execPath: process.execPath, nodeFlags: [], ...(running ? { entry: running } : {}), note: `the service will run the TypeScript sources (~40 MB more memory): ${copy.reason}` };
}

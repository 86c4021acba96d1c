import path from 'node:path';

/** Where the agent keeps everything (DESIGN §6). PSWM_HOME wins so tests, benchmarks and a second
 * agent on one machine never touch the system folder. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.PSWM_HOME) return path.resolve(env.PSWM_HOME);
  return platform === 'win32' ? 'C:\\ProgramData\\pswm-reborn' : '/var/lib/pswm';
}

export interface DataPaths {
  root: string;
  config: string;
  publicKey: string;
  privateKey: string;
  logs: string;
  scriptsCache: string;
  externalFacts: string;
  outbox: string;
  state: string;
  cache: string;
}

/** The layout inside a data folder. One table, so the CLI, the loop, the service installer and
 * `pswm status` all agree on names. */
export function dataPaths(root: string): DataPaths {
  // win32/posix join chosen by the root's own shape, so a Windows layout can be computed (and
  // tested) on Linux and vice versa
  const join = /^[A-Za-z]:\\/.test(root) ? path.win32.join : path.join;
  return {
    root,
    config: join(root, 'config.json'),
    publicKey: join(root, 'agent.pub'),
    privateKey: join(root, 'agent.key'),
    logs: join(root, 'logs'),
    scriptsCache: join(root, 'scripts_cache'),
    externalFacts: join(root, 'external_facts'),
    outbox: join(root, 'outbox'),
    state: join(root, 'state'),
    cache: join(root, 'cache'),
  };
}

/** The folder of the machine owner's fact scripts: `configured` (the --external-facts-dir flag or
 * config.json's external_facts_dir; relative to the data folder when relative), else
 * `<data>/external_facts`. */
export function externalFactsDir(paths: DataPaths, configured?: string): string {
  if (!configured) return paths.externalFacts;
  const style = /^[A-Za-z]:\\/.test(paths.root) ? path.win32 : path;
  return style.resolve(paths.root, configured);
}

/** Folders created at install time; the files (config, keys) are written by enroll/gencert. */
export const DATA_SUBFOLDERS = ['logs', 'scripts_cache', 'external_facts', 'outbox', 'state', 'cache'] as const;

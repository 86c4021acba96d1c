// The `--data-dir` option every subcommand accepts; PSWM_HOME and the platform default otherwise.
import path from 'node:path';
import { defaultDataDir } from '../paths.ts';

export const DATA_DIR_OPTION = { 'data-dir': { type: 'string' } } as const;

export const DATA_DIR_HELP = '  --data-dir DIR   Data folder (default: $PSWM_HOME, else /var/lib/pswm or C:\\ProgramData\\pswm-reborn).\n';

export const EXTERNAL_FACTS_OPTION = { 'external-facts-dir': { type: 'string' } } as const;
export const EXTERNAL_FACTS_HELP = '  --external-facts-dir DIR  Fact scripts of this machine (default: config.json external_facts_dir, else <data>/external_facts).\n';

export function dataDirFrom(values: { 'data-dir'?: string }): string {
  return values['data-dir'] ? path.resolve(values['data-dir']) : defaultDataDir();
}

import { readFile } from 'node:fs/promises';

let cachedVersion: string | undefined;

/** The agent package's version, read once (reported as a fact and printed by `pswm --version`). */
export async function agentVersion(): Promise<string> {
  cachedVersion ??= (JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return cachedVersion;
}

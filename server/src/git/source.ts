// The policy source the reconciler follows: a remote http(s) repository, a local repository (path or
// file:// URL), or (with no configuration) the demo repository created in the data directory.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServerConfig } from '../config/config.ts';
import type { Logger } from '../logger.ts';
import { ensureDemoRepository } from './demo-repo.ts';
import { GitSourceError } from './errors.ts';
import { createGitHttpClient } from './http-client.ts';
import { openLocalSource } from './local-source.ts';
import { openRemoteSource } from './remote-source.ts';
import type { PolicySnapshot } from './snapshot.ts';

export type { PolicySnapshot } from './snapshot.ts';
export { GitSourceError } from './errors.ts';

export interface PolicySource {
  /** For logs and status: the URL (without credentials) or path, and the branch. */
  description: string;
  local: boolean;
  /** Fetches if remote; resolves the branch head revision. */
  sync(): Promise<string>;
  read(revision: string): Promise<PolicySnapshot>;
  /** Local: calls onChange when the branch ref may have moved; remote: never. Resolves to a stop function. */
  watch(onChange: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export type PolicySourceConfig = Pick<ServerConfig, 'dataDir' | 'policyRepo' | 'policyBranch' | 'gitUsername' | 'gitToken' | 'gitCaFile'>;

export async function openPolicySource(config: PolicySourceConfig, log: Logger, env: NodeJS.ProcessEnv = process.env): Promise<PolicySource> {
  const branch = config.policyBranch;
  const repo = config.policyRepo;
  if (!repo) return openLocalSource(await ensureDemoRepository(config.dataDir, branch, log), branch, log);
  if (/^https?:\/\//i.test(repo)) {
    const http = await createGitHttpClient({ branch, caFile: config.gitCaFile, env });
    return openRemoteSource({ url: repo, branch, dataDir: config.dataDir, http, credentials: { username: config.gitUsername, token: config.gitToken } }, log);
  }
  if (/^file:\/\//i.test(repo)) return openLocalSource(fileURLToPath(repo), branch, log);
  // isomorphic-git speaks smart HTTP(S) only; anything else that looks like a URL would be
  // misread as a relative path.
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(repo) || /^[^/\\]+@[^/\\]+:/.test(repo)) {
    throw new GitSourceError('GIT_UNSUPPORTED_REMOTE', repo.replace(/\/\/[^@/]*@/, '//'));
  }
  return openLocalSource(path.resolve(repo), branch, log);
}

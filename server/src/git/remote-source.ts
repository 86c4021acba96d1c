// A remote repository over smart HTTP(S): a shallow single-branch clone without a working tree in
// `<dataDir>/git/<hash of the URL>/`, fetched on every sync and read straight from the object store.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import git from 'isomorphic-git';
import type { GitAuth, HttpClient } from 'isomorphic-git';
import type { Logger } from '../logger.ts';
import { credentialsFor, splitUrlCredentials } from './auth.ts';
import type { GitCredentials } from './auth.ts';
import { GitSourceError, refReadError, remoteError } from './errors.ts';
import { createRevisionReader } from './snapshot.ts';
import type { PolicySource } from './source.ts';

export interface RemoteSourceOptions {
  url: string;
  branch: string;
  dataDir: string;
  credentials: GitCredentials;
  /** http-client.ts: proxy, certificate authorities, a missing remote HEAD. */
  http: HttpClient;
}

export async function openRemoteSource(options: RemoteSourceOptions, log: Logger): Promise<PolicySource> {
  const { branch, http } = options;
  const fromUrl = splitUrlCredentials(options.url);
  const url = fromUrl.url;
  const credentials: GitCredentials = options.credentials.token || options.credentials.username ? options.credentials : { username: fromUrl.username, token: fromUrl.password };
  const dir = path.join(options.dataDir, 'git', createHash('sha256').update(url).digest('hex').slice(0, 16));
  const remoteRef = `refs/remotes/origin/${branch}`;
  const description = `${url} (branch ${branch})`;
  const reader = createRevisionReader(dir);

  const onAuth = (): GitAuth => credentialsFor(url, credentials) ?? { cancel: true };
  // A second 401 means the credentials are wrong: stop instead of retrying the same answer.
  const onAuthFailure = (): GitAuth => ({ cancel: true });
  const transport = { fs, http, url, onAuth, onAuthFailure, singleBranch: true, depth: 1 };

  /** undefined when there is no clone yet; a read that failed (EMFILE) is not "no clone": it throws. */
  async function resolveHead(): Promise<string | undefined> {
    return git.resolveRef({ fs, dir, ref: remoteRef }).catch((error: unknown) => {
      if ((error as { code?: string }).code === 'NotFoundError') return undefined;
      throw refReadError(error, description);
    });
  }

  async function cloneFresh(): Promise<void> {
    // Clone beside the final directory and rename it in: an interrupted clone must not look usable.
    const buildDir = `${dir}.cloning-${process.pid}`;
    await rm(buildDir, { recursive: true, force: true });
    await mkdir(path.dirname(dir), { recursive: true });
    try {
      await git.clone({ ...transport, dir: buildDir, ref: branch, noCheckout: true, noTags: true });
      await git.resolveRef({ fs, dir: buildDir, ref: remoteRef }).catch((error: unknown) => {
        throw refReadError(error, description);
      });
    } catch (error) {
      await rm(buildDir, { recursive: true, force: true });
      throw error;
    }
    await rm(dir, { recursive: true, force: true });
    await rename(buildDir, dir);
    log.info({ repository: url, branch, dir }, 'cloned the policy repository');
  }

  async function fetchHead(): Promise<string> {
    try {
      if ((await resolveHead()) === undefined) await cloneFresh();
      else await git.fetch({ ...transport, dir, ref: branch, prune: true, tags: false });
    } catch (error) {
      throw remoteError(error, description);
    }
    const revision = await resolveHead();
    if (!revision) throw new GitSourceError('GIT_BRANCH_NOT_FOUND', description);
    reader.noteHead(revision);
    return revision;
  }

  // Concurrent callers share one fetch: two fetches into one object store would race on refs.
  let inFlight: Promise<string> | undefined;
  return {
    description,
    local: false,
    sync() {
      inFlight ??= fetchHead().finally(() => (inFlight = undefined));
      return inFlight;
    },
    read: (revision) => reader.read(revision),
    async watch() {
      return async () => {};
    },
    async close() {
      await inFlight?.catch(() => {});
    },
  };
}

// The zero-configuration default: a local policy repository in the data directory, created once
// from policy-repo-template/ so that `npm start` serves a working demo.
import fs from 'node:fs';
import { cp, mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import git from 'isomorphic-git';
import type { Logger } from '../logger.ts';

const TEMPLATE_DIR = fileURLToPath(new URL('../../../policy-repo-template/', import.meta.url));
const DEMO_AUTHOR = { name: 'pswm', email: 'pswm@localhost' };

/** Returns `<dataDir>/policy-repo`, creating it from the template (one commit on `branch`) unless it
 * already exists. The repository is built beside its final place and renamed in, so a crash during
 * creation never leaves a half-made repository that later starts would mistake for the real one. */
export async function ensureDemoRepository(dataDir: string, branch: string, log: Logger, templateDir = TEMPLATE_DIR): Promise<string> {
  const repoDir = path.join(dataDir, 'policy-repo');
  if (fs.existsSync(path.join(repoDir, '.git'))) return repoDir;

  const buildDir = `${repoDir}.creating-${process.pid}`;
  await rm(buildDir, { recursive: true, force: true });
  await mkdir(path.dirname(buildDir), { recursive: true });
  await cp(templateDir, buildDir, { recursive: true, verbatimSymlinks: true });
  await git.init({ fs, dir: buildDir, defaultBranch: branch });
  await git.add({ fs, dir: buildDir, filepath: '.' });
  const revision = await git.commit({ fs, dir: buildDir, message: 'Initial policy from policy-repo-template', author: DEMO_AUTHOR });
  try {
    await rename(buildDir, repoDir);
  } catch (error) {
    // Another process sharing the data directory created it first: use theirs.
    await rm(buildDir, { recursive: true, force: true });
    if (fs.existsSync(path.join(repoDir, '.git'))) return repoDir;
    throw error;
  }
  log.info({ repository: repoDir, revision, branch }, 'created the demo policy repository from policy-repo-template');
  return repoDir;
}

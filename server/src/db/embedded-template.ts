// A freshly initialised PGlite cluster, kept as a directory, so that the first start does not run
// initdb: initdb inside PGlite's WebAssembly takes 20–40 s on a small machine, copying the directory
// well under a second, and opening the copy costs what a restart costs. `npm install` prepares it
// (server/scripts/prepare-embedded-template.ts) next to the installed PGlite, named by PGlite's version,
// so an upgraded PGlite never opens a cluster of another PostgreSQL version. Without it the first start
// simply runs initdb.
import { access, cp, mkdir, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';

/** <node_modules>/.cache/pswm-server/pglite-<version> for the PGlite this process loads. */
export async function templatePath(): Promise<string> {
  const entry = fileURLToPath(import.meta.resolve('@electric-sql/pglite'));
  const packageDir = dirname(dirname(entry)); // .../node_modules/@electric-sql/pglite/dist/index.js
  const { version } = JSON.parse(await readFile(join(packageDir, 'package.json'), 'utf8')) as { version: string };
  return join(dirname(dirname(packageDir)), '.cache', 'pswm-server', `pglite-${version}`);
}

const isCluster = (dir: string) => access(join(dir, 'PG_VERSION')).then(() => true, () => false);

/** Copies the template into the empty `pgdataDir`; false when there is no template. */
export async function copyTemplate(pgdataDir: string): Promise<boolean> {
  const template = await templatePath();
  if (!(await isCluster(template))) return false;
  await cp(template, pgdataDir, { recursive: true });
  return true;
}

/** Creates the template unless it exists; returns its path. */
export async function prepareTemplate(): Promise<{ path: string; created: boolean }> {
  const path = await templatePath();
  if (await isCluster(path)) return { path, created: false };
  await mkdir(dirname(path), { recursive: true });
  const scratch = `${path}.${process.pid}`;
  try {
    const db = await PGlite.create(scratch);
    await db.close();
    await rename(scratch, path); // atomic: a concurrent start never copies half a cluster
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return { path, created: true };
}

// The server's secret key file: 32 random bytes, base64, owner-only, at --secret-key-file or
// <data-dir>/secret-key. It is created on the first start against a database; later starts and other
// instances must find the same key (server-secret.ts checks its fingerprint against the database).
import { randomBytes } from 'node:crypto';
import { chmod, link, mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ServerConfig } from '../config/config.ts';
import type { Queryable } from '../db/database.ts';
import type { Logger } from '../logger.ts';
import { checkKeyId, deriveServerKeys, recordedKeyId, SecretKeyError } from './server-secret.ts';
import type { ServerKeys } from './server-secret.ts';

const KEY_BYTES = 32;
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

export function secretKeyPath(config: Pick<ServerConfig, 'dataDir' | 'secretKeyFile'>): string {
  return config.secretKeyFile ?? join(config.dataDir, 'secret-key');
}

/** The key in `path`, or undefined when there is no such file. */
export async function readSecretKey(path: string, log: Logger): Promise<Buffer | undefined> {
  let text: string;
  try {
    text = (await readFile(path, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const key = BASE64.test(text) ? Buffer.from(text, 'base64') : Buffer.alloc(0);
  if (key.length < KEY_BYTES) {
    throw new SecretKeyError(`${path} must hold at least ${KEY_BYTES} random bytes in base64 (e.g. the output of "openssl rand -base64 32")`);
  }
  // Read-only secret mounts (e.g. Kubernetes) are often 0644 inside a container: say so, do not refuse.
  const { mode } = await stat(path);
  if (process.platform !== 'win32' && mode & 0o077) log.warn({ path, mode: (mode & 0o777).toString(8) }, `${path} can be read by other users; make it owner-only (chmod 600)`);
  return key;
}

export function newSecretKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

/**
 * Writes `key` to `path`, owner-only and in one step: `replace` renames over any file there (rotation);
 * otherwise a hard link creates the file only if there is none, so instances sharing one path that
 * start at once end up with the same key.
 */
export async function writeSecretKey(path: string, key: Buffer, options: { replace: boolean }): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'w' });
  await chmod(temporary, 0o600);
  if (options.replace) return rename(temporary, path);
  try {
    await link(temporary, path);
  } finally {
    await unlink(temporary);
  }
}

/** The keys this instance signs with: from the key file, created on the first start against a database. */
export async function openServerKeys(config: Pick<ServerConfig, 'dataDir' | 'secretKeyFile'>, sql: Queryable, log: Logger): Promise<ServerKeys> {
  const path = secretKeyPath(config);
  let key = await readSecretKey(path, log);
  if (!key) {
    const recorded = await recordedKeyId(sql);
    if (recorded) {
      throw new SecretKeyError(
        `this database uses the secret key with id ${recorded}, and there is no key file at ${path}: copy the key file of `
        + 'another instance there (or point --secret-key-file at it), or start over with "pswm-server secret-key rotate"',
      );
    }
    key = await createSecretKey(path, log);
  }
  const keys = deriveServerKeys(key);
  await checkKeyId(sql, keys, path);
  return keys;
}

async function createSecretKey(path: string, log: Logger): Promise<Buffer> {
  try {
    const key = newSecretKey();
    await writeSecretKey(path, key, { replace: false });
    log.info({ path }, `secret key created at ${path}; back it up, and give every other instance on this database a copy`);
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return (await readSecretKey(path, log))!; // another instance sharing the path was first
  }
}

// The agent's Ed25519 key pair on disk: agent.key (PKCS#8 PEM, owner-only; on Windows a DPAPI blob
// in an ACL-protected folder, see key-protection.ts) and agent.pub (SPKI PEM).
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { execFile } from 'node:child_process';
import { chmod, mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { writeFileAtomic } from '../platform/atomic-file.ts';
import { callNativeHelper, NATIVE_HELPER, nativeHelperPath } from '../platform/native-helper.ts';
import { describeKeyProtection, encodeProtectedKey, KEY_ENTROPY, keyProtectionPlan, parseStoredKey } from './key-protection.ts';

export interface AgentKeys {
  privateKey: KeyObject;
  publicKeyPem: string;
}

export class KeyError extends Error {
  code: 'KEY_MISSING' | 'KEY_INVALID' | 'KEY_EXISTS' | 'KEY_UNREADABLE' | 'KEY_UNWRITABLE';
  constructor(code: KeyError['code'], message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

export function generateAgentKeys(): AgentKeys {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

/** Parses a private key an installer provides; anything but Ed25519 is refused, because the server
 * accepts only Ed25519 public keys. */
export function parsePrivateKey(pem: string, source: string): AgentKeys {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (error) {
    throw new KeyError('KEY_INVALID', `${source} is not a readable private key (PEM): ${(error as Error).message}`, { cause: error });
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new KeyError('KEY_INVALID', `${source} is a ${privateKey.asymmetricKeyType} key; pswm needs Ed25519`);
  return { privateKey, publicKeyPem: createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString() };
}

export interface KeyStorageOptions {
  platform?: NodeJS.Platform;
  /** pswm-native.exe (DPAPI); default: the one beside the executable. */
  helper?: string;
}

const run = promisify(execFile);

/** Windows: the key's folder gets its protected ACL before any key byte exists (key-protection.ts). */
async function protectKeyFolder(dir: string, platform: NodeJS.Platform, helper: string | undefined): Promise<ReturnType<typeof keyProtectionPlan>> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const plan = keyProtectionPlan(dir, platform, helper !== undefined);
  for (const line of plan.folderCommands) await run(line.command, line.args, { windowsHide: true });
  return plan;
}

async function storedForm(pem: string, plan: ReturnType<typeof keyProtectionPlan>, helper: string | undefined): Promise<string> {
  if (!plan.dpapi || !helper) return pem;
  return encodeProtectedKey(await callNativeHelper(helper, ['protect', KEY_ENTROPY], Buffer.from(pem)));
}

/** Writes both files; the private key is protected before this returns, and on Windows it is
 * never on disk in clear when pswm-native.exe is there (DPAPI). */
export async function saveAgentKeys(keys: AgentKeys, files: { privateKey: string; publicKey: string }, opts: KeyStorageOptions = {}): Promise<void> {
  const platform = opts.platform ?? process.platform;
  const helper = opts.helper ?? nativeHelperPath(platform);
  const plan = await protectKeyFolder(path.dirname(files.privateKey), platform, helper);
  const pem = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  // writeFileAtomic creates the file 0600 (POSIX) / in the protected folder (Windows) before any
  // byte is written, and renames it into place: never readable by others
  await writeFileAtomic(files.privateKey, await storedForm(pem, plan, helper)).catch((error: NodeJS.ErrnoException) => {
    // the folder now admits SYSTEM and Administrators only: an unelevated prompt is neither
    if (platform === 'win32' && (error.code === 'EPERM' || error.code === 'EACCES')) throw new KeyError('KEY_UNWRITABLE', `cannot write ${files.privateKey}: its folder is restricted to SYSTEM and Administrators; run pswm from an elevated prompt (Run as administrator)`, { cause: error });
    throw error;
  });
  if (platform !== 'win32') await chmod(files.privateKey, plan.mode);
  await writeFileAtomic(files.publicKey, keys.publicKeyPem);
  if (platform !== 'win32') await chmod(files.publicKey, 0o644);
}

/** Reads the key, decrypting a DPAPI envelope in memory. A plain PEM key on Windows with the helper
 * present (written before DPAPI, or by an installer) is protected in place on this first read. */
export async function loadAgentKeys(privateKeyFile: string, opts: KeyStorageOptions = {}): Promise<AgentKeys> {
  const platform = opts.platform ?? process.platform;
  let text: string;
  try {
    text = await readFile(privateKeyFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new KeyError('KEY_MISSING', `no private key at ${privateKeyFile}; run "pswm gencert" first`);
    throw error;
  }
  const stored = parseStoredKey(text);
  const helper = opts.helper ?? nativeHelperPath(platform);
  if (stored.kind === 'dpapi') return parsePrivateKey(await unprotect(privateKeyFile, stored.blob, helper), privateKeyFile);
  const keys = parsePrivateKey(stored.pem, privateKeyFile);
  if (platform === 'win32' && helper) {
    const plan = await protectKeyFolder(path.dirname(privateKeyFile), platform, helper);
    await writeFileAtomic(privateKeyFile, await storedForm(stored.pem, plan, helper));
  }
  return keys;
}

async function unprotect(file: string, blob: Buffer, helper: string | undefined): Promise<string> {
  if (!helper) throw new KeyError('KEY_UNREADABLE', `${file} is protected with DPAPI and ${NATIVE_HELPER}, which decrypts it, is not beside the executable`);
  try {
    return (await callNativeHelper(helper, ['unprotect', KEY_ENTROPY], blob)).toString('utf8');
  } catch (error) {
    throw new KeyError('KEY_UNREADABLE', `${file} is protected with DPAPI and cannot be decrypted on this machine (${(error as Error).message}); a key file copied from another machine cannot be used there: run "pswm gencert --force --reenroll" and enroll again`, { cause: error });
  }
}

/** What `pswm status` says about the key's protection. */
export async function readKeyProtection(privateKeyFile: string, platform: NodeJS.Platform = process.platform): Promise<string> {
  const text = await readFile(privateKeyFile, 'utf8').catch(() => undefined);
  if (text === undefined) return describeKeyProtection('missing', platform);
  const mode = platform === 'win32' ? undefined : (await stat(privateKeyFile)).mode;
  return describeKeyProtection(parseStoredKey(text).kind, platform, mode);
}

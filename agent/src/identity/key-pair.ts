// The agent's Ed25519 key pair on disk: agent.key (PKCS#8 PEM, owner-only) and agent.pub (SPKI PEM).
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { execFile } from 'node:child_process';
import { chmod, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { writeFileAtomic } from '../platform/atomic-file.ts';
import { keyProtectionPlan } from './key-protection.ts';

export interface AgentKeys {
  privateKey: KeyObject;
  publicKeyPem: string;
}

export class KeyError extends Error {
  code: 'KEY_MISSING' | 'KEY_INVALID' | 'KEY_EXISTS';
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

/** Writes both files; the private key is protected before this returns. */
export async function saveAgentKeys(keys: AgentKeys, files: { privateKey: string; publicKey: string }, platform: NodeJS.Platform = process.platform): Promise<void> {
  await mkdir(path.dirname(files.privateKey), { recursive: true, mode: 0o700 });
  // writeFileAtomic creates the file 0600 before any byte is written: never readable by others
  await writeFileAtomic(files.privateKey, keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  const protection = keyProtectionPlan(files.privateKey, platform);
  if (platform !== 'win32') await chmod(files.privateKey, protection.mode);
  for (const line of protection.commands) await promisify(execFile)(line.command, line.args, { windowsHide: true });
  await writeFileAtomic(files.publicKey, keys.publicKeyPem);
  if (platform !== 'win32') await chmod(files.publicKey, 0o644);
}

export async function loadAgentKeys(privateKeyFile: string): Promise<AgentKeys> {
  let pem: string;
  try {
    pem = await readFile(privateKeyFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new KeyError('KEY_MISSING', `no private key at ${privateKeyFile}; run "pswm gencert" first`);
    throw error;
  }
  return parsePrivateKey(pem, privateKeyFile);
}

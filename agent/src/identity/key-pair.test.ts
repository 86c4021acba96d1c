import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { makeTempDir } from '../../test/support/temp-dir.ts';
import { generateAgentKeys, KeyError, loadAgentKeys, parsePrivateKey, saveAgentKeys } from './key-pair.ts';
import { keyProtectionPlan, windowsKeyAclCommands } from './key-protection.ts';

test('the private key is written owner-only and loads back as the same identity', { skip: process.platform === 'win32' }, async (t) => {
  const dir = await makeTempDir(t);
  const files = { privateKey: path.join(dir, 'agent.key'), publicKey: path.join(dir, 'agent.pub') };
  const keys = generateAgentKeys();
  await saveAgentKeys(keys, files);
  assert.equal((await stat(files.privateKey)).mode & 0o777, 0o600);
  assert.equal((await loadAgentKeys(files.privateKey)).publicKeyPem, keys.publicKeyPem);
});

test('an installer-provided Ed25519 key is accepted; other key types are refused', () => {
  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  assert.match(parsePrivateKey(pem, 'installer.key').publicKeyPem, /BEGIN PUBLIC KEY/);

  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  assert.throws(() => parsePrivateKey(rsa, 'rsa.key'), (error: KeyError) => error.code === 'KEY_INVALID' && /rsa key; pswm needs Ed25519/.test(error.message));
  assert.throws(() => parsePrivateKey('not a key', 'junk.key'), (error: KeyError) => error.code === 'KEY_INVALID');
});

test('a missing key says to run gencert', async (t) => {
  const dir = await makeTempDir(t);
  await assert.rejects(loadAgentKeys(path.join(dir, 'agent.key')), (error: KeyError) => error.code === 'KEY_MISSING' && /pswm gencert/.test(error.message));
});

test('on Windows the key ACL is reset to SYSTEM and Administrators by SID, inheritance removed', () => {
  const file = 'C:\\ProgramData\\pswm-reborn\\agent.key';
  assert.deepEqual(windowsKeyAclCommands(file), [
    { command: 'icacls', args: [file, '/inheritance:r'] },
    { command: 'icacls', args: [file, '/grant:r', '*S-1-5-18:F', '*S-1-5-32-544:F'] },
  ]);
  assert.deepEqual(keyProtectionPlan(file, 'win32').commands, windowsKeyAclCommands(file));
  assert.deepEqual(keyProtectionPlan('/var/lib/pswm/agent.key', 'linux'), { mode: 0o600, commands: [] });
});

import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { makeTempDir } from '../../test/support/temp-dir.ts';
import { generateAgentKeys, KeyError, loadAgentKeys, parsePrivateKey, readKeyProtection, saveAgentKeys } from './key-pair.ts';
import { describeKeyProtection, encodeProtectedKey, keyProtectionPlan, parseStoredKey, protectedFolderAclArgs } from './key-protection.ts';

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

test('on Windows the key folder is protected before the key is written: inheritance removed, SYSTEM and Administrators by SID, inherited by new files', () => {
  const dir = 'C:\\ProgramData\\pswm-reborn';
  const args = [dir, '/inheritance:r', '/grant:r', '*S-1-5-18:(OI)(CI)F', '*S-1-5-32-544:(OI)(CI)F'];
  assert.deepEqual(protectedFolderAclArgs(dir), args);
  assert.deepEqual(keyProtectionPlan(dir, 'win32', true), { folderCommands: [{ command: 'icacls.exe', args }], dpapi: true, mode: 0o600 });
  assert.equal(keyProtectionPlan(dir, 'win32', false).dpapi, false, 'no helper, no DPAPI: the ACL alone');
  assert.deepEqual(keyProtectionPlan('/var/lib/pswm', 'linux', false), { folderCommands: [], dpapi: false, mode: 0o600 });
});

test('a DPAPI envelope is told apart from a PEM key and its blob read back exactly, CRLF or not', () => {
  const blob = Buffer.from([1, 0, 0, 0, 0xd0, 0x8c, 0x9d, 0xdf, 0xff, 0x00, 0x7f]);
  const stored = encodeProtectedKey(blob);
  assert.match(stored, /^pswm-dpapi-machine\/v1\n[A-Za-z0-9+/=]+\n$/);
  assert.deepEqual(parseStoredKey(stored), { kind: 'dpapi', blob });
  assert.deepEqual(parseStoredKey(stored.replace(/\n/g, '\r\n')), { kind: 'dpapi', blob });
  const pem = generateAgentKeys().privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  assert.deepEqual(parseStoredKey(pem), { kind: 'pem', pem });
  assert.doesNotMatch(stored, /PRIVATE KEY/);
});

test('pswm status names the protection in force', () => {
  assert.equal(describeKeyProtection('dpapi', 'win32'), 'DPAPI (machine) + ACL');
  assert.match(describeKeyProtection('pem', 'win32'), /^ACL only: .*plain PEM.*pswm-native\.exe/);
  assert.equal(describeKeyProtection('pem', 'linux', 0o100600), 'file mode 0600');
  assert.match(describeKeyProtection('pem', 'linux', 0o100644), /^file mode 0644 \(readable by other users/);
  assert.match(describeKeyProtection('missing', 'linux'), /no key yet/);
});

test('readKeyProtection reads the mode of the key written by saveAgentKeys', { skip: process.platform === 'win32' }, async (t) => {
  const dir = await makeTempDir(t);
  const files = { privateKey: path.join(dir, 'agent.key'), publicKey: path.join(dir, 'agent.pub') };
  assert.match(await readKeyProtection(files.privateKey), /no key yet/);
  await saveAgentKeys(generateAgentKeys(), files);
  assert.equal(await readKeyProtection(files.privateKey), 'file mode 0600');
});

test('a DPAPI key without the helper that decrypts it is a clear error, not a PEM parse failure', async (t) => {
  const dir = await makeTempDir(t);
  const file = path.join(dir, 'agent.key');
  await writeFile(file, encodeProtectedKey(Buffer.from('opaque')));
  await assert.rejects(loadAgentKeys(file, { platform: 'win32', helper: undefined }), (error: KeyError) => error.code === 'KEY_UNREADABLE' && /protected with DPAPI and pswm-native\.exe/.test(error.message));
});

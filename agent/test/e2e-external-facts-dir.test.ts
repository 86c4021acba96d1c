// The machine owner's fact scripts folder, from --external-facts-dir or config.json's
// external_facts_dir, with real `pswm facts` processes.
import assert from 'node:assert/strict';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { agentHome } from './support/fleet.ts';
import { makeTempDir } from './support/temp-dir.ts';

const posixOnly = { skip: process.platform === 'win32' ? 'POSIX shells' : false };

test('fact scripts come from --external-facts-dir, else config.json external_facts_dir, else <data>/external_facts', posixOnly, async (t) => {
  const agent = await agentHome(t);
  const elsewhere = await makeTempDir(t);
  const fact = async (dir: string, name: string) => {
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, `${name}.sh`), `echo '{"from":"${name}"}'`);
    await chmod(path.join(dir, `${name}.sh`), 0o755);
  };
  await fact(path.join(agent.home, 'external_facts'), 'default_place');
  await fact(elsewhere, 'flag_place');
  await fact(path.join(agent.home, 'site-facts'), 'config_place');
  const externalKeys = async (args: string[]) => {
    const result = await agent.run(['facts', ...args]);
    assert.equal(result.code, 0, result.stderr);
    return Object.keys(JSON.parse(result.stdout)).filter((key) => key.startsWith('external.'));
  };

  assert.deepEqual(await externalKeys([]), ['external.default_place']);
  assert.deepEqual(await externalKeys(['--external-facts-dir', elsewhere]), ['external.flag_place']);
  await writeFile(path.join(agent.home, 'config.json'), JSON.stringify({ server: 'http://127.0.0.1:1/', agent_id: 'a', name: 'n', enrolled_at: new Date(0).toISOString(), external_facts_dir: 'site-facts' }));
  assert.deepEqual(await externalKeys([]), ['external.config_place']);
  assert.deepEqual(await externalKeys(['--external-facts-dir', elsewhere]), ['external.flag_place'], 'the flag wins');
});

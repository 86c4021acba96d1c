import assert from 'node:assert/strict';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { sha256Hex, type CompiledExternalFact } from '@pswm/schemas';
import { makeTempDir } from '../../test/support/temp-dir.ts';
import { collectFacts } from './collect-facts.ts';

const posixOnly = { skip: process.platform === 'win32' ? 'POSIX shells' : false };
const limits = { external_facts: { timeout_seconds: 1, max_output_bytes: 200 } };

async function dataDirWith(t: TestContext, files: Record<string, { text: string; mode?: number }>): Promise<string> {
  const dataDir = await makeTempDir(t);
  const dir = path.join(dataDir, 'external_facts');
  await mkdir(dir);
  for (const [name, { text, mode }] of Object.entries(files)) {
    await writeFile(path.join(dir, name), text);
    if (mode !== undefined) await chmod(path.join(dir, name), mode);
  }
  return dataDir;
}

function documentFact(name: string, content: string, over: Partial<CompiledExternalFact> = {}): CompiledExternalFact {
  return { name, shell: 'sh', content, sha256: sha256Hex(content), timeout_seconds: 5, max_output_bytes: 1000, platforms: ['linux', 'darwin'], ...over };
}

test('built-in facts describe the machine in the shared shape', async (t) => {
  const facts = await collectFacts({ dataDir: await makeTempDir(t), settings: limits, cpuSampleMs: 10 });
  assert.equal(typeof facts.hostname, 'string');
  const osFacts = facts.os as Record<string, unknown>;
  assert.ok(['linux', 'windows', 'darwin'].includes(osFacts.family as string));
  for (const key of ['name', 'version', 'kernel', 'arch']) assert.equal(typeof osFacts[key], 'string', key);
  const cpu = facts.cpu as { cores: number; usage_percent: number };
  assert.ok(cpu.cores >= 1 && cpu.usage_percent >= 0 && cpu.usage_percent <= 100);
  assert.ok((facts.memory as { total_bytes: number }).total_bytes > 0);
  assert.ok((facts.disks as unknown[]).length >= 1);
  assert.ok(Array.isArray((facts.network as { interfaces: unknown[] }).interfaces));
  assert.equal(typeof facts.uptime_seconds, 'number');
  assert.deepEqual(facts.agent, { version: '0.1.0', node: process.versions.node });
});

test('scripts in external_facts/ become external.<name> facts: by extension, or by executable bit', posixOnly, async (t) => {
  const dataDir = await dataDirWith(t, {
    'disk_owner.sh': { text: 'echo \'{"owner":"ops","n":3}\'' },
    'rack': { text: '#!/bin/sh\necho \'{"rack":"B7"}\'\n', mode: 0o755 },
    'README.txt': { text: 'not a fact' },
    'notes': { text: 'echo {}', mode: 0o644 },
  });
  const facts = await collectFacts({ dataDir, settings: limits, cpuSampleMs: 10 });
  assert.deepEqual(facts['external.disk_owner'], { owner: 'ops', n: 3 });
  assert.deepEqual(facts['external.rack'], { rack: 'B7' });
  assert.deepEqual(Object.keys(facts).filter((key) => key.startsWith('external.')).sort(), ['external.disk_owner', 'external.rack']);
});

test('a fact script that does not print one JSON object yields an error fact saying why', posixOnly, async (t) => {
  const dataDir = await dataDirWith(t, {
    'fails.sh': { text: 'echo "disk not found" >&2; exit 3' },
    'not_json.sh': { text: 'echo hello' },
    'array.sh': { text: 'echo "[1,2]"' },
    'slow.sh': { text: 'sleep 30; echo "{}"' },
    'chatty.sh': { text: 'printf \'{"a":"%0300d"}\' 0' },
  });
  const facts = await collectFacts({ dataDir, settings: limits, cpuSampleMs: 10 });
  assert.deepEqual(facts['external.fails'], { error: 'exited with code 3: disk not found' });
  assert.match((facts['external.not_json'] as { error: string }).error, /^output is not valid JSON: /);
  assert.deepEqual(facts['external.array'], { error: 'output must be a JSON object, got an array' });
  assert.deepEqual(facts['external.slow'], { error: 'timed out after 1 s' });
  assert.deepEqual(facts['external.chatty'], { error: 'output exceeded 200 bytes and was truncated' });
});

test('policy facts run with their own limits after their sha256 is checked, and replace a local fact of the same name', posixOnly, async (t) => {
  const dataDir = await dataDirWith(t, { 'site.sh': { text: 'echo \'{"from":"local"}\'' } });
  const tampered = { ...documentFact('tampered', 'echo \'{"x":1}\''), content: 'rm -rf /tmp/nothing; echo {}' };
  const facts = await collectFacts({
    dataDir,
    settings: limits,
    cpuSampleMs: 10,
    platform: 'linux',
    documentFacts: [
      documentFact('site', 'echo \'{"from":"policy"}\''),
      documentFact('slowish', 'sleep 1.5; echo \'{"ok":true}\''), // past settings' 1 s, within its own 5 s
      tampered,
      documentFact('win_only', 'echo {}', { shell: 'powershell', platforms: ['windows'] }),
    ],
  });
  assert.deepEqual(facts['external.site'], { from: 'policy' });
  assert.deepEqual(facts['external.slowish'], { ok: true });
  assert.match((facts['external.tampered'] as { error: string }).error, /^content does not match its sha256 .*; not run$/);
  assert.equal('external.win_only' in facts, false);
});

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import type { DesiredState } from '@pswm/schemas';
import { settingsDefaults } from '../../../schemas/src/json-schema.ts';
import { makeTempDir } from '../../test/support/temp-dir.ts';
import { desiredStateCacheFile } from '../api/desired-state.ts';
import { createAgentSession } from '../api/session.ts';
import { compiledScript, withCheck } from '../converge/scripts/testdata/scripts.ts';
import { generateAgentKeys } from '../identity/key-pair.ts';
import { dataPaths } from '../paths.ts';
import { saveJsonFile } from '../platform/json-file.ts';
import { openOutbox } from '../report/outbox.ts';
import type { WireReport } from '../report/wire.ts';
import { runIteration } from './iteration.ts';
import { loadLastIteration } from './last-iteration.ts';

const posixOnly = { skip: process.platform === 'win32' ? 'POSIX shells' : false };
const silent = { critical() {}, error() {}, warn() {}, info() {}, debug() {}, reconfigure() {}, close() {} };

/** A port nothing listens on: the "server" is down for the whole test. */
async function deadServerUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}/`;
}

/** An agent whose server is down and whose cache holds a document with one checked script. */
async function offlineAgent(t: TestContext) {
  const root = await makeTempDir(t);
  const paths = dataPaths(root);
  const marker = path.join(root, 'marker');
  const state: DesiredState = {
    apiVersion: 'pswm/v1',
    settings: settingsDefaults(),
    provenance: {},
    scripts: [withCheck(compiledScript({ name: 'marker', content: `touch '${marker}'` }), `test -f '${marker}'`)],
    packages: [],
    external_facts: [],
    conflicts: [],
  };
  const desiredStateFile = desiredStateCacheFile(paths.cache);
  await saveJsonFile(desiredStateFile, { document: 'c'.repeat(64), revision: 'rev-7', state, fetched_at: new Date(0).toISOString() });
  const outbox = await openOutbox(paths.outbox);
  const session = createAgentSession({ server: await deadServerUrl(), agentId: 'a-1', keys: generateAgentKeys() });
  const ctx = { paths, desiredStateFile, session, outbox, log: silent, defaultSettings: async () => settingsDefaults() };
  return { paths, marker, outbox, iterate: (dryRun: boolean) => runIteration(ctx, { dryRun }) };
}

test('offline, a dry run converges the cached state without changing anything and queues a flagged report', posixOnly, async (t) => {
  const agent = await offlineAgent(t);
  const outcome = await agent.iterate(true);
  assert.ok(!existsSync(agent.marker), 'the script did not run');
  assert.deepEqual(outcome.items.map((i) => [i.name, i.status]), [['marker', 'drifted']]);
  const [record] = await agent.outbox.pending();
  const report = record.body as WireReport;
  assert.equal(record.id, report.id);
  assert.equal(report.dry_run, true);
  assert.equal(report.revision, 'rev-7');
  assert.deepEqual(report.script_runs?.map((r) => r.phase), ['check']);
  const last = await loadLastIteration(agent.paths.state);
  assert.equal(last?.source, 'cache');
  assert.equal(last?.applied_revision, undefined, 'a dry run applies nothing');
});

test('offline, a real iteration applies the cached state; the next one finds it in sync', posixOnly, async (t) => {
  const agent = await offlineAgent(t);
  assert.deepEqual((await agent.iterate(false)).items.map((i) => i.status), ['changed']);
  assert.ok(existsSync(agent.marker));
  assert.deepEqual((await agent.iterate(false)).items.map((i) => i.status), ['in_sync']);
  assert.equal(await agent.outbox.size(), 2, 'both reports wait for the server');
  assert.equal((await loadLastIteration(agent.paths.state))?.applied_revision, 'rev-7');
});

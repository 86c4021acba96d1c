import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
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
import { makeChocoStandin } from '../../test/support/choco-standin.ts';
import { INVENTORY_RESEND_MS } from '../report/inventory-sent.ts';
import { runIteration, type IterationContext } from './iteration.ts';
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
async function offlineAgent(t: TestContext, extra: Partial<IterationContext> = {}) {
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
  const ctx: IterationContext = { paths, desiredStateFile, session, outbox, log: silent, defaultSettings: async () => settingsDefaults(), ...extra };
  return { paths, marker, outbox, ctx, iterate: (dryRun: boolean) => runIteration(ctx, { dryRun }) };
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

test('a report carries the package inventory when it changed, for a new identity, and at least daily; not an unchanged one', posixOnly, async (t) => {
  const choco = await makeChocoStandin(t, { installed: { git: '2.44.0', '7zip': '23.1' } });
  let now = new Date('2026-03-01T10:00:00Z');
  const ctx = { env: choco.env, identity: 'server-a agent-1', now: () => now };
  const agent = await offlineAgent(t, ctx);
  const sentInventories = async () => (await agent.outbox.pending()).map((r) => (r.body as WireReport).choco_packages?.map((p) => `${p.name} ${p.version}`));
  const later = async (ms: number) => {
    now = new Date(now.getTime() + ms);
    await agent.iterate(false);
  };

  await later(0);
  await later(60_000); // unchanged: left out
  const state = await choco.readState();
  await writeFile(path.join(choco.dir, 'choco-state.json'), JSON.stringify({ ...state, installed: { ...state.installed, git: '2.45.0' } }));
  await later(60_000); // changed
  await later(60_000); // unchanged again
  await later(INVENTORY_RESEND_MS); // a day since it was last sent
  assert.deepEqual(await sentInventories(), [['7zip 23.1', 'git 2.44.0'], undefined, ['7zip 23.1', 'git 2.45.0'], undefined, ['7zip 23.1', 'git 2.45.0']]);

  // the same machine enrolled again (another agent id): the set is sent to the new identity
  const reEnrolled = await runIteration({ ...agent.ctx, identity: 'server-a agent-2' }, { dryRun: false });
  assert.deepEqual(reEnrolled.report.choco_packages?.map((p) => p.name), ['7zip', 'git']);
});

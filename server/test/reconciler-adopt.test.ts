// Instances take turns applying commits (whichever takes the run lock first). The one whose run then
// finds the revision applied by the other takes it into memory right after, so its next commit
// compiles only what the commit touches instead of first reading the stored inventory and compiling
// the revision again on the commit's clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { openPolicySource } from '../src/git/source.ts';
import { startReconciler, type Reconciler } from '../src/reconcile/reconciler.ts';
import { freshDatabase, oneClientDatabase } from './support/database.ts';
import { appliedRevision, silentLog, templateRepo, until } from './reconcile-fixtures.ts';

const CONFIG = { pollIntervalSeconds: 3600, webhookSecret: undefined, policyBranch: 'main' };
const BERLIN = 'organizations/contoso/berlin.yaml';

test('both instances hold each commit in memory, the one that applied it and the one that found it applied', { timeout: 90_000 }, async (t) => {
  const db = await freshDatabase(t);
  const repo = await templateRepo(t);
  const start = async (): Promise<Reconciler> => {
    const source = await openPolicySource({ dataDir: repo.dir, policyRepo: repo.dir, policyBranch: 'main' }, silentLog);
    t.after(() => source.close());
    const reconciler = await startReconciler({ db: oneClientDatabase(db.sql), source, config: CONFIG, log: silentLog });
    t.after(() => reconciler.stop());
    return reconciler;
  };
  const instances = await Promise.all([start(), start()]);
  const berlinIn = (reconciler: Reconciler) => reconciler.appliedPolicy()?.locations.get('contoso/berlin')?.metadata.description;
  const template = await readFile(path.join(repo.dir, BERLIN), 'utf8');

  for (const round of [1, 2, 3]) {
    const description = `Berlin, round ${round}`;
    // both instances' ref watchers see the commit and run; one applies it
    const head = await repo.commit({ [BERLIN]: template.replace(/description: .*/, `description: ${description}`) }, `round ${round}`);
    await until(`round ${round} to be applied`, async () => (await appliedRevision(db.sql)) === head, 30_000);
    await until(`both instances to hold round ${round}`, async () => instances.every((one) => berlinIn(one) === description), 10_000)
      .catch(() => assert.fail(`round ${round}: the instances hold ${JSON.stringify(instances.map(berlinIn))}`));
  }
});

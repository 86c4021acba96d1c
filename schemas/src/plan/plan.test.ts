// Each folder in testdata/ holds a base and a head policy and the reviewed plan between them, as
// text and as JSON. After an intended change, regenerate with
//   PSWM_UPDATE_EXPECTED=1 npx node --test schemas/src/plan/plan.test.ts
// and review the diff before committing.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import type { Policy } from '../model.ts';
import { loadPolicy } from '../validate/load-policy.ts';
import { readPolicyDir } from '../source/dir.ts';
import { planChanges } from './plan.ts';
import { renderPlanText } from './render-text.ts';
import { inventory } from './inventory.ts';

const TESTDATA = new URL('./testdata/', import.meta.url);

async function policyIn(dir: URL): Promise<Policy> {
  const result = loadPolicy(await readPolicyDir(dir.pathname));
  assert.ok(result.ok, `${dir.pathname} must validate: ${JSON.stringify(!result.ok && result.errors)}`);
  return result.policy;
}

function expectFile(file: URL, actual: string): void {
  if (process.env.PSWM_UPDATE_EXPECTED === '1') fs.writeFileSync(file, actual);
  assert.equal(actual, fs.readFileSync(file, 'utf8'));
}

const cases = fs.readdirSync(TESTDATA, { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name);

test('there are fixture pairs to plan', () => assert.ok(cases.length >= 4));

for (const name of cases) {
  test(`plan ${name}: text and JSON equal the reviewed expectations`, async () => {
    const dir = new URL(`${name}/`, TESTDATA);
    const plan = planChanges(await policyIn(new URL('base/', dir)), await policyIn(new URL('head/', dir)));
    expectFile(new URL('expected.txt', dir), renderPlanText(plan));
    expectFile(new URL('expected.json', dir), `${JSON.stringify(plan, null, 2)}\n`);
  });
}

test('a policy planned against itself has no changes', async () => {
  const policy = await policyIn(new URL('settings-change-at-location/base/', TESTDATA));
  const plan = planChanges(policy, policy);
  assert.deepEqual(plan.objects, { added: [], changed: [], removed: [] });
  assert.deepEqual(plan.groups, []);
  assert.match(renderPlanText(plan), /^No changes\.\n\nPlan: 0 objects added, 0 changed, 0 removed; 0 agent groups affected\n$/);
});

test('the inventory digest follows a script file\'s content, not the YAML alone', async () => {
  const dir = new URL('script-content-changed/', TESTDATA);
  const before = inventory(await policyIn(new URL('base/', dir)));
  const after = inventory(await policyIn(new URL('head/', dir)));
  assert.notEqual(after.get('Script/cleanup')!.sha256, before.get('Script/cleanup')!.sha256);
  assert.equal(after.get('Location/acme/paris')!.sha256, before.get('Location/acme/paris')!.sha256);
  assert.deepEqual({ ...after.get('Script/cleanup'), sha256: '' }, { kind: 'Script', id: 'cleanup', sha256: '', file: 'scripts/cleanup.yaml', line: 1 });
});

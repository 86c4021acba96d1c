// Chocolatey through the stand-in with a real server and real agent processes: a package whose
// install exits 3010 leaves the agent flagged rebootPending in the read API, still so after a later
// iteration that ran no choco command (clearing after a restart: reboot-pending.test.ts).
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { makeChocoStandin } from './support/choco-standin.ts';
import { commitPolicy, enrolledAgent, startFleet } from './support/fleet.ts';

test('a 3010 from choco keeps the agent rebootPending after the iteration that asked for it', { timeout: 180_000 }, async (t) => {
  const fleet = await startFleet(t);
  const agent = await enrolledAgent(t, fleet, 'reboot-01', 'fabrikam/lab-linux');
  await commitPolicy(fleet, {
    'packages/reboot.yaml': 'apiVersion: pswm/v1\nkind: ChocoDeployment\nmetadata:\n  name: reboot\nspec:\n  packages:\n    - name: reboot-package\n  targets:\n    agents: [reboot-01]\n',
  }, 'a package that needs a reboot');
  const standin = await makeChocoStandin(t, { installed: { chocolatey: '2.4.1' } });
  const once = async () => {
    const result = await agent.run(['agent', '--once'], standin.env);
    assert.equal(result.code, 0, result.stderr);
    return (await fleet.get('/api/v1/agents/reboot-01')).rebootPending;
  };

  assert.equal(await once(), true, 'the install exited 3010');
  assert.equal((await standin.readState()).installed['reboot-package'], '1.1.0');
  assert.equal(await once(), true, 'nothing ran this time; the reboot still has not happened');
  const { items } = await fleet.get('/api/v1/agents/reboot-01/drift');
  assert.equal(items.find((i: { name: string }) => i.name === 'reboot-package').status, 'in_sync');

});

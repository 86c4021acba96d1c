// A test file's fleet: the end-to-end fixtures of the agent tests (a real pswm-server process on a
// fresh database with the demo policy, real pswm agent processes) opened once for the whole file.
import type { TestContext } from 'node:test';
import { after } from 'node:test';
import { startFleet, type Fleet } from '../../../agent/test/support/fleet.ts';

// Cleanups of file-wide fixtures run once, after the file's last test, newest first. (node:test's
// `after` called inside a `before` hook would run at the end of that hook.)
const cleanups: Array<() => unknown> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** A TestContext whose `after` runs at the end of the test file. */
export const fileScope = { after: (fn: () => unknown) => void cleanups.push(fn) } as unknown as TestContext;

export async function fileFleet(): Promise<Fleet & { token(role: 'admin' | 'viewer'): Promise<string> }> {
  const fleet = await startFleet(fileScope);
  return Object.assign(fleet, {
    async token(role: 'admin' | 'viewer') {
      const created = await fleet.admin(['token', 'create', '--role', role, '--name', `console-${role}-${Date.now()}`]);
      if (created.code !== 0) throw new Error(`token create: ${created.stderr}`);
      const token = /pswm_[A-Za-z0-9_-]{43}/.exec(created.stdout)?.[0];
      if (!token) throw new Error(`no token in: ${created.stdout}`);
      return token;
    },
  });
}

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cgroup2MountPoint, ownCgroup2Path } from './cgroup.ts';
import { containedCommand } from './containment.ts';
import { containedPids, type ProcessEntry } from './process-table.ts';

const entry = (pid: number, ppid: number, marked = false): ProcessEntry => ({ pid, ppid, marked });

test('the run is its root, the root\'s descendants, every marked process and what those started', () => {
  const table = [
    entry(1, 0),
    entry(10, 1), // the agent
    entry(20, 10, true), // the script's shell
    entry(21, 20, true), // its child
    entry(22, 21), // a grandchild that cleared its environment
    entry(30, 1, true), // an orphan re-parented to init after a double fork
    entry(31, 30), // started by the orphan, environment cleared
    entry(40, 1), // unrelated
  ];
  assert.deepEqual(containedPids(table, 20), [20, 21, 22, 30, 31]);
  assert.deepEqual(containedPids(table, 99), [20, 21, 22, 30, 31], 'a root that is gone is not signalled');
});

test('cgroup v2 is found in mountinfo and the own group in /proc/self/cgroup', () => {
  const mountinfo = [
    '25 30 0:22 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
    '35 30 0:31 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
  ].join('\n');
  assert.equal(cgroup2MountPoint(mountinfo), '/sys/fs/cgroup/unified');
  assert.equal(cgroup2MountPoint('25 30 0:22 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory'), undefined);
  assert.equal(ownCgroup2Path('4:memory:/x\n0::/system.slice/pswm.service\n'), '/system.slice/pswm.service');
  assert.equal(ownCgroup2Path('4:memory:/x\n'), undefined);
});

test('the wrapper joins the group and sets the address-space limit before exec', () => {
  assert.deepEqual(containedCommand('bash', ['f.sh'], '/sys/fs/cgroup/x/pswm-run-1', 1024).args.slice(2), ['pswm-run', '/sys/fs/cgroup/x/pswm-run-1', '1024', 'bash', 'f.sh']);
  assert.deepEqual(containedCommand('bash', ['f.sh'], undefined, undefined).args.slice(2), ['pswm-run', '', '0', 'bash', 'f.sh']);
});

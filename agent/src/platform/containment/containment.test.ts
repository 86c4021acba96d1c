// The Windows containment plans, checked as data here; the Job Object itself runs under Wine in
// agent/test/wine.test.ts (a timed-out cmd script whose detached child does not survive).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createContainment, jobRunCommand } from './containment.ts';

test('a Windows run is wrapped in pswm-native.exe jobrun with the memory limit, the program line unchanged after it', () => {
  const helper = 'C:\\Program Files\\pswm\\pswm-native.exe';
  const script = 'C:\\ProgramData\\pswm-reborn\\scripts_cache\\a b.cmd';
  assert.deepEqual(jobRunCommand(helper, 'cmd.exe', ['/d', '/c', script], 256), { command: helper, args: ['jobrun', '256', 'cmd.exe', '/d', '/c', script] });
  assert.deepEqual(jobRunCommand(helper, 'choco.exe', ['list'], undefined).args.slice(0, 2), ['jobrun', '0'], '0 = kill-on-close without a memory limit');
});

test('without the helper (a development checkout) Windows falls back to taskkill /T and says the memory limit is not enforced', { skip: process.platform === 'win32' ? 'needs a machine without pswm-native.exe' : false }, () => {
  // not on Windows, nativeHelperPath() finds nothing: the fallback is what remains
  const contained = createContainment({ method: 'windows-job', maxMemoryMb: 64 });
  assert.equal(contained.method, 'windows-tree');
  assert.match(contained.memoryNotEnforced ?? '', /max_memory_mb is not enforced: pswm-native\.exe/);
  assert.deepEqual(contained.wrap('cmd.exe', ['/c', 'x.cmd']), { command: 'cmd.exe', args: ['/c', 'x.cmd'] });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseProcStat, sessionMembers } from './session-processes.ts';

test('a PTY session: its members, and descendants that left it (setsid), but nothing else', () => {
  const table = [
    { pid: 1, ppid: 0, sid: 1 },
    { pid: 100, ppid: 50, sid: 100 }, // the shell, session leader
    { pid: 101, ppid: 100, sid: 100 }, // a job in its own process group, same session
    { pid: 102, ppid: 101, sid: 102 }, // a grandchild that called setsid
    { pid: 103, ppid: 102, sid: 102 }, // and its child
    { pid: 200, ppid: 1, sid: 100 }, // re-parented to init, still in the session
    { pid: 300, ppid: 1, sid: 300 }, // unrelated
  ];
  assert.deepEqual(sessionMembers(table, 100).sort((a, b) => a - b), [100, 101, 102, 103, 200]);
});

test('/proc/<pid>/stat: the command name may hold spaces and parentheses', () => {
  assert.deepEqual(parseProcStat('4242 (my (weird) cmd) S 4000 4242 4100 34816 4242 4194560'), { pid: 4242, ppid: 4000, sid: 4100 });
  assert.equal(parseProcStat('garbage'), undefined);
});

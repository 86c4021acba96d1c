import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compiledScript } from './testdata/scripts.ts';
import { createScheduleWake, nextScheduledRun } from './schedule-wake.ts';
import { nextScheduleTime } from './schedule.ts';

test('the next wake is the earliest cron time of this platform\'s schedule scripts', () => {
  const after = new Date(2025, 0, 15, 12, 0);
  const scripts = [
    compiledScript({ name: 'evening', run: 'schedule', schedule: '0 18 * * *' }),
    compiledScript({ name: 'soon-on-windows', run: 'schedule', schedule: '30 12 * * *', shell: 'powershell', platforms: ['windows'] }),
    compiledScript({ name: 'afternoon', run: 'schedule', schedule: '0 15 * * *' }),
    compiledScript({ name: 'always', run: 'every_iteration' }),
  ];
  assert.deepEqual(nextScheduledRun(scripts, 'linux', after, nextScheduleTime), new Date(2025, 0, 15, 15, 0));
  assert.deepEqual(nextScheduledRun(scripts, 'windows', after, nextScheduleTime), new Date(2025, 0, 15, 12, 30));
  assert.equal(nextScheduledRun([scripts[3]], 'linux', after, nextScheduleTime), undefined);
});

test('the wake fires at the time, looking at the clock at least once a minute', () => {
  let clock = 0;
  const pending: Array<{ at: number; callback: () => void }> = [];
  const delays: number[] = [];
  const timers = {
    setTimeout: (callback: () => void, ms: number) => {
      delays.push(ms);
      const entry = { at: clock + ms, callback };
      pending.push(entry);
      return entry;
    },
    clearTimeout: (handle: unknown) => void pending.splice(pending.indexOf(handle as (typeof pending)[0]), 1),
  };
  const woken: string[] = [];
  const wake = createScheduleWake({ timers, now: () => new Date(clock), wake: (reason) => woken.push(reason) });
  wake.set(new Date(150_000));
  assert.deepEqual(delays, [60_000]);
  const step = () => {
    const entry = pending.shift()!;
    clock = entry.at;
    entry.callback();
  };
  step();
  // the machine slept: the clock jumped past the time while a timer was pending
  clock = 200_000;
  pending[0].at = clock;
  step();
  assert.deepEqual(woken, [`schedule ${new Date(150_000).toISOString()}`]);
  assert.equal(pending.length, 0, 'nothing left to wait for');
  wake.set(new Date(clock + 1000));
  wake.close();
  assert.equal(pending.length, 0, 'close clears the timer');
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compiledScript, withCheck } from './testdata/scripts.ts';
import { planScripts, type ScriptPlanInput } from './plan.ts';
import { rememberFirstSeen, rememberOutcome } from './memory.ts';
import { nextScheduleTime } from './schedule.ts';
import { emptyScriptsState, type ScriptsState } from './state.ts';
import type { CompiledScript } from '@pswm/schemas';

const NOW = new Date(2025, 0, 15, 12, 0); // local time, like cron

function plan(scripts: CompiledScript[], over: Partial<ScriptPlanInput> = {}) {
  return planScripts({ scripts, platform: 'linux', state: emptyScriptsState(), now: NOW, nextScheduleTime, ...over }).map((d) => ({
    name: d.script.name,
    action: d.action,
    ...('reason' in d ? { reason: d.reason } : {}),
  }));
}

test('scripts are planned in (order, name) order', () => {
  const scripts = [compiledScript({ name: 'b' }), compiledScript({ name: 'a' }), compiledScript({ name: 'z', order: 1 })];
  assert.deepEqual(plan(scripts).map((d) => d.name), ['z', 'a', 'b']);
});

test('a script for another platform is skipped with the reason', () => {
  assert.deepEqual(plan([compiledScript({ name: 'win', shell: 'powershell', platforms: ['windows'] })]), [
    { name: 'win', action: 'skip', reason: 'for windows; this is linux' },
  ]);
});

test('content that does not match its sha256 fails and is not run', () => {
  const tampered = { ...compiledScript({ name: 't' }), content: 'rm -rf /tmp/x' };
  assert.deepEqual(plan([tampered]), [{ name: 't', action: 'fail', reason: 'content does not match its sha256; not run' }]);
  const badCheck = { ...withCheck(compiledScript({ name: 'c' }), 'true'), check: { shell: 'sh' as const, content: 'false', sha256: 'ab' } };
  assert.deepEqual(plan([badCheck]), [{ name: 'c', action: 'fail', reason: 'check content does not match its sha256; not run' }]);
});

test('a script with a check is checked first', () => {
  assert.deepEqual(plan([withCheck(compiledScript({ name: 'c' }), 'test -f /etc/x')]), [{ name: 'c', action: 'check-first' }]);
});

test('single_run runs once per content and again when the content changes', () => {
  const v1 = compiledScript({ name: 'once', run: 'single_run', content: 'echo v1' });
  assert.equal(plan([v1])[0].action, 'run');
  const failed = rememberOutcome(emptyScriptsState(), v1, false, NOW);
  assert.equal(plan([v1], { state: failed })[0].action, 'run');
  const done = rememberOutcome(emptyScriptsState(), v1, true, NOW);
  assert.deepEqual(plan([v1], { state: done }), [{ name: 'once', action: 'skip', reason: 'already ran this content (single_run)' }]);
  const v2 = compiledScript({ name: 'once', run: 'single_run', content: 'echo v2' });
  assert.equal(plan([v2], { state: done })[0].action, 'run');
});

test('an interval script runs again only once the interval has elapsed since the last attempt', () => {
  const script = compiledScript({ name: 'every6h', run: 'interval', interval_hours: 6 });
  assert.equal(plan([script])[0].action, 'run');
  const state = rememberOutcome(emptyScriptsState(), script, false, NOW);
  const later = (hours: number) => new Date(NOW.getTime() + hours * 3_600_000);
  assert.deepEqual(plan([script], { state, now: later(5.9) }), [
    { name: 'every6h', action: 'skip', reason: `interval not elapsed (next run after ${later(6).toISOString()})` },
  ]);
  assert.equal(plan([script], { state, now: later(6) })[0].action, 'run');
});

test('a schedule script waits for its first cron time after it was first seen, then for the next one after its run', () => {
  const script = compiledScript({ name: 'cleanup', run: 'schedule', schedule: '0 18 * * *' });
  const at = (day: number, hour: number, minute = 0) => new Date(2025, 0, day, hour, minute);
  assert.deepEqual(plan([script]), [{ name: 'cleanup', action: 'skip', reason: `not scheduled yet (next run at ${at(15, 18).toISOString()})` }]);

  const seen = rememberFirstSeen(emptyScriptsState(), [script], NOW);
  assert.equal(plan([script], { state: seen, now: at(15, 17, 59) })[0].action, 'skip');
  assert.equal(plan([script], { state: seen, now: at(15, 18) })[0].action, 'run');
  // an agent that was off over the fire time catches up once when it comes back
  assert.equal(plan([script], { state: seen, now: at(17, 9) })[0].action, 'run');

  const ran = rememberOutcome(seen, script, true, at(17, 9));
  assert.equal(plan([script], { state: ran, now: at(17, 17) })[0].action, 'skip');
  assert.equal(plan([script], { state: ran, now: at(17, 18, 1) })[0].action, 'run');
});

test('first sight is remembered once and does not move', () => {
  const script = compiledScript({ name: 'cleanup', run: 'schedule', schedule: '0 18 * * *' });
  const first: ScriptsState = rememberFirstSeen(emptyScriptsState(), [script], NOW);
  const again = rememberFirstSeen(first, [script], new Date(NOW.getTime() + 86_400_000));
  assert.equal(again.scripts.cleanup.firstSeenAt, NOW.toISOString());
});

test('an unusable schedule is skipped with the reason', () => {
  const script = compiledScript({ name: 'never', run: 'schedule', schedule: '0 0 30 2 *' });
  assert.deepEqual(plan([script]), [{ name: 'never', action: 'skip', reason: 'unusable schedule "0 0 30 2 *"' }]);
});

test('a run missed while the agent was off is made up once by default, however late', () => {
  const script = compiledScript({ name: 'cleanup', run: 'schedule', schedule: '0 18 * * *' });
  const seen = rememberFirstSeen(emptyScriptsState(), [script], NOW);
  // off from before 18:00 on the 15th until the 18th at 09:00: three missed times, one run
  assert.equal(plan([script], { state: seen, now: new Date(2025, 0, 18, 9) })[0].action, 'run');
  const ran = rememberOutcome(seen, script, true, new Date(2025, 0, 18, 9));
  assert.equal(plan([script], { state: ran, now: new Date(2025, 0, 18, 12) })[0].action, 'skip');
});

test('catch_up_minutes bounds how late a missed run may start; an older miss waits for the next time', () => {
  const script = compiledScript({ name: 'cleanup', run: 'schedule', schedule: '0 18 * * *', catch_up_minutes: 60 });
  const seen = rememberFirstSeen(emptyScriptsState(), [script], NOW);
  assert.equal(plan([script], { state: seen, now: new Date(2025, 0, 15, 18, 59) })[0].action, 'run', 'within the window');
  assert.deepEqual(plan([script], { state: seen, now: new Date(2025, 0, 16, 9, 12) }), [
    {
      name: 'cleanup',
      action: 'skip',
      reason: `missed the run at ${new Date(2025, 0, 15, 18).toISOString()} by more than catch_up_minutes (60); next run at ${new Date(2025, 0, 16, 18).toISOString()}`,
    },
  ]);
  // the next time comes: it runs although the older miss was never made up
  assert.equal(plan([script], { state: seen, now: new Date(2025, 0, 16, 18, 0, 30) })[0].action, 'run');
  // off for days, back 20 minutes after an 18:00: that one still counts
  assert.equal(plan([script], { state: seen, now: new Date(2025, 0, 19, 18, 20) })[0].action, 'run');
});

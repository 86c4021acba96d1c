import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nextCronTime, parseCron } from './cron.ts';
import type { Cron } from './cron.ts';

function cron(expression: string): Cron {
  const parsed = parseCron(expression);
  if (!parsed.ok) throw new Error(`${expression}: ${parsed.message}`);
  return parsed.cron;
}

/** Local time, so the expectations hold in any time zone without DST transitions in the range. */
function local(year: number, month: number, day: number, hour = 0, minute = 0): Date {
  return new Date(year, month - 1, day, hour, minute);
}

test('daily at 18:00 runs later the same day, then the next day', () => {
  const daily = cron('0 18 * * *');
  assert.deepEqual(nextCronTime(daily, local(2025, 3, 10, 9, 30)), local(2025, 3, 10, 18, 0));
  assert.deepEqual(nextCronTime(daily, local(2025, 3, 10, 18, 0)), local(2025, 3, 11, 18, 0));
});

test('the next time is strictly after the given one, ignoring seconds', () => {
  const everyMinute = cron('* * * * *');
  assert.deepEqual(nextCronTime(everyMinute, new Date(2025, 0, 1, 12, 0, 59, 999)), local(2025, 1, 1, 12, 1));
});

test('month ends roll into the next month and year', () => {
  assert.deepEqual(nextCronTime(cron('0 0 1 * *'), local(2025, 1, 31, 23, 59)), local(2025, 2, 1));
  assert.deepEqual(nextCronTime(cron('30 23 31 * *'), local(2025, 4, 1)), local(2025, 5, 31, 23, 30));
  assert.deepEqual(nextCronTime(cron('0 0 1 1 *'), local(2025, 12, 31, 23, 59)), local(2026, 1, 1));
});

test('February 29 waits for the next leap year', () => {
  assert.deepEqual(nextCronTime(cron('0 12 29 2 *'), local(2025, 3, 1)), local(2028, 2, 29, 12, 0));
  assert.deepEqual(nextCronTime(cron('0 12 29 FEB *'), local(2024, 1, 15)), local(2024, 2, 29, 12, 0));
});

test('steps over ranges and over *', () => {
  const c = cron('10-30/10 */6 * * *');
  assert.deepEqual([...c.minutes], [10, 20, 30]);
  assert.deepEqual([...c.hours], [0, 6, 12, 18]);
  assert.deepEqual([...cron('5/20 * * * *').minutes], [5, 25, 45]);
  assert.deepEqual(nextCronTime(c, local(2025, 6, 1, 6, 30)), local(2025, 6, 1, 12, 10));
});

test('names, lists and Sunday as 0 or 7', () => {
  const weekdays = cron('0 8 * * MON-FRI');
  assert.deepEqual([...weekdays.daysOfWeek], [1, 2, 3, 4, 5]);
  assert.deepEqual([...cron('0 8 * * 7').daysOfWeek], [0]);
  assert.deepEqual([...cron('0 8 * * sun,sat').daysOfWeek].sort(), [0, 6]);
  assert.deepEqual([...cron('0 0 1 jan,jul *').months], [1, 7]);
  // 2025-03-08 is a Saturday: the next weekday 08:00 is Monday the 10th.
  assert.deepEqual(nextCronTime(weekdays, local(2025, 3, 8, 12)), local(2025, 3, 10, 8, 0));
});

test('with both day fields restricted, either one matching is enough (Vixie cron)', () => {
  // The 13th, or any Friday. 2025-06-01 is a Sunday: the first Friday is the 6th.
  const c = cron('0 0 13 * 5');
  assert.deepEqual(nextCronTime(c, local(2025, 6, 1)), local(2025, 6, 6));
  assert.deepEqual(nextCronTime(c, local(2025, 6, 12, 1)), local(2025, 6, 13));
  // With day-of-week `*`, only the day of month counts.
  assert.deepEqual(nextCronTime(cron('0 0 13 * *'), local(2025, 6, 1)), local(2025, 6, 13));
  // With day-of-month `*/1` (starts with *), both must match: Fridays only.
  assert.deepEqual(nextCronTime(cron('0 0 */1 * 5'), local(2025, 6, 1)), local(2025, 6, 6));
});

test('rejects malformed expressions naming the wrong field', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['0 18 * *', 'expression', /expected 5 fields/],
    ['0 25 * * *', 'hour', /25 is out of range 0-23/],
    ['60 * * * *', 'minute', /60 is out of range 0-59/],
    ['0 0 0 * *', 'day-of-month', /0 is out of range 1-31/],
    ['0 0 * 13 *', 'month', /13 is out of range 1-12/],
    ['0 0 * * 8', 'day-of-week', /8 is out of range 0-7/],
    ['0 0 * * MOX', 'day-of-week', /"MOX" is not a number or a name/],
    ['*/0 * * * *', 'minute', /step must be at least 1/],
    ['0 20-10 * * *', 'hour', /runs backwards/],
    ['0 0 1,,2 * *', 'day-of-month', /empty list item/],
    ['0 0 30 2 *', 'day-of-month', /never runs/],
  ];
  for (const [expression, field, message] of cases) {
    const parsed = parseCron(expression);
    assert.equal(parsed.ok, false, expression);
    if (parsed.ok) continue;
    assert.equal(parsed.field, field, expression);
    assert.match(parsed.message, message, expression);
  }
});

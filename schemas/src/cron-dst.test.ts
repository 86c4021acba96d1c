// Cron across daylight-saving transitions, in a zone that has them. node --test runs each file in
// its own process, so the zone set here is this file's alone; Node rereads TZ when it is assigned.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nextCronTime, parseCron, type Cron } from './cron.ts';

process.env.TZ = 'Europe/Paris'; // 2025: CET→CEST on 30 March at 02:00, CEST→CET on 26 October at 03:00

function cron(expression: string): Cron {
  const parsed = parseCron(expression);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.cron;
}
const next = (expression: string, afterUtc: string) => nextCronTime(cron(expression), new Date(afterUtc)).toISOString();

test('the zone really is in effect', () => {
  assert.equal(new Date('2025-01-15T12:00:00Z').getHours(), 13);
  assert.equal(new Date('2025-07-15T12:00:00Z').getHours(), 14);
});

test('spring forward: a time the clock skips runs when it resumes, once; other times keep their wall-clock hour', () => {
  // 02:30 does not exist on 30 March: it runs at 03:00 CEST (01:00Z), then at 02:30 CEST the next day
  assert.equal(next('30 2 * * *', '2025-03-29T12:00:00Z'), '2025-03-30T01:00:00.000Z');
  assert.equal(next('30 2 * * *', '2025-03-30T01:00:00Z'), '2025-03-31T00:30:00.000Z');
  // every quarter of the skipped hour makes one run, not four
  assert.equal(next('*/15 2 * * *', '2025-03-30T00:00:00Z'), '2025-03-30T01:00:00.000Z');
  assert.equal(next('*/15 2 * * *', '2025-03-30T01:00:00Z'), '2025-03-31T00:00:00.000Z');
  // the daily 18:00 cleanup stays at 18:00 local: 17:00Z before, 16:00Z after
  assert.equal(next('0 18 * * *', '2025-03-29T12:00:00Z'), '2025-03-29T17:00:00.000Z');
  assert.equal(next('0 18 * * *', '2025-03-29T17:00:00Z'), '2025-03-30T16:00:00.000Z');
  // times just around the hole are untouched
  assert.equal(next('59 1 * * *', '2025-03-29T12:00:00Z'), '2025-03-30T00:59:00.000Z');
  assert.equal(next('0 3 * * *', '2025-03-29T12:00:00Z'), '2025-03-30T01:00:00.000Z');
});

test('fall back: a fixed time in the repeated hour runs once; an hourly schedule runs in both passes', () => {
  // 02:30 is shown at 00:30Z (CEST) and again at 01:30Z (CET): one run, the first
  assert.equal(next('30 2 * * *', '2025-10-25T12:00:00Z'), '2025-10-26T00:30:00.000Z');
  assert.equal(next('30 2 * * *', '2025-10-26T00:30:00Z'), '2025-10-27T01:30:00.000Z');
  // "every hour at :30" is about elapsed hours: it runs in the repeated hour as well
  assert.equal(next('30 * * * *', '2025-10-26T00:30:00Z'), '2025-10-26T01:30:00.000Z');
  assert.equal(next('30 * * * *', '2025-10-26T01:30:00Z'), '2025-10-26T02:30:00.000Z');
  // the daily 18:00 cleanup stays at 18:00 local: 16:00Z before, 17:00Z after
  assert.equal(next('0 18 * * *', '2025-10-25T16:00:00Z'), '2025-10-26T17:00:00.000Z');
  // every minute goes on through both passes of the hour
  assert.equal(next('* * * * *', '2025-10-26T00:59:00Z'), '2025-10-26T01:00:00.000Z');
});

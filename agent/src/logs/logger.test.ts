import assert from 'node:assert/strict';
import { readdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { makeTempDir } from '../../test/support/temp-dir.ts';
import { openLogger, readCriticalEvents, type LoggingSettings } from './logger.ts';
import { redact } from './redact.ts';

const settings = (over: Partial<LoggingSettings> = {}): LoggingSettings => ({ level: 'info', retention_days: 14, max_file_mb: 10, ...over });
const KB_IN_MB = 1 / 1024;

async function lines(file: string): Promise<Array<Record<string, unknown>>> {
  return (await readFile(file, 'utf8')).split('\n').filter(Boolean).map((line) => JSON.parse(line));
}

test('lines are JSON with time, level and message; below the configured level nothing is written', async (t) => {
  const dir = await makeTempDir(t);
  const log = openLogger({ dir, settings: settings({ level: 'warn' }), now: () => new Date('2025-01-02T03:04:05.000Z') });
  log.info('quiet');
  log.debug('quieter');
  log.warn('iteration slow', { duration_ms: 900 });
  log.reconfigure(settings({ level: 'debug' }));
  log.debug('now visible');
  log.close();
  assert.deepEqual(await lines(path.join(dir, 'agent.log')), [
    { time: '2025-01-02T03:04:05.000Z', level: 'warn', msg: 'iteration slow', duration_ms: 900 },
    { time: '2025-01-02T03:04:05.000Z', level: 'debug', msg: 'now visible' },
  ]);
});

test('the log rotates when the next line would pass max_file_mb, and no line is split', async (t) => {
  const dir = await makeTempDir(t);
  // a frozen clock: every rotation falls in the same millisecond, names must still sort in order
  const log = openLogger({ dir, settings: settings({ max_file_mb: KB_IN_MB }), now: () => new Date('2025-01-01T00:00:00Z') }); // 1024 bytes
  for (let i = 0; i < 40; i++) log.info('line', { i, pad: 'x'.repeat(60) });
  log.close();
  const names = (await readdir(dir)).sort();
  const rotated = names.filter((n) => /^agent-\d{8}T\d{9}Z-\d{3}\.log$/.test(n));
  assert.ok(rotated.length >= 3, names.join(','));
  const all: number[] = [];
  for (const name of [...rotated, 'agent.log']) {
    assert.ok((await stat(path.join(dir, name))).size <= 1024, name);
    all.push(...(await lines(path.join(dir, name))).map((l) => l.i as number));
  }
  assert.deepEqual(all, Array.from({ length: 40 }, (_, i) => i));
});

test('rotated logs older than retention_days are deleted; the current log and critical.log stay', async (t) => {
  const dir = await makeTempDir(t);
  const old = new Date(Date.now() - 20 * 86_400_000);
  for (const name of ['agent-20240101T000000000Z-000.log', 'agent.log', 'critical.log']) {
    await writeFile(path.join(dir, name), '{}\n');
    await utimes(path.join(dir, name), old, old);
  }
  await writeFile(path.join(dir, 'agent-20990101T000000000Z-000.log'), '{}\n'); // recent
  const log = openLogger({ dir, settings: settings({ retention_days: 30 }) });
  assert.equal((await readdir(dir)).length, 4);
  log.reconfigure(settings({ retention_days: 7 }));
  log.close();
  assert.deepEqual((await readdir(dir)).sort(), ['agent-20990101T000000000Z-000.log', 'agent.log', 'critical.log']);
});

test('errors and critical events are also kept in critical.log, bounded by dropping the oldest', async (t) => {
  const dir = await makeTempDir(t);
  const log = openLogger({ dir, settings: settings({ level: 'error' }), criticalMaxBytes: 2000 });
  log.critical('enrolled', { server: 'https://pswm.example' });
  log.warn('not kept');
  for (let i = 0; i < 30; i++) log.error('report failed', { i, reason: 'ECONNREFUSED' });
  log.critical('revoked');
  log.close();
  const events = readCriticalEvents(dir);
  assert.ok((await stat(path.join(dir, 'critical.log'))).size <= 2000);
  assert.equal(events.at(-1)?.msg, 'revoked');
  assert.equal(events.some((e) => e.msg === 'enrolled'), false, 'oldest dropped first');
  assert.equal(events.some((e) => e.msg === 'not kept'), false);
  const kept = events.filter((e) => e.msg === 'report failed').map((e) => e.i as number);
  assert.deepEqual(kept, Array.from({ length: kept.length }, (_, k) => 30 - kept.length + k), 'a contiguous newest run');
});

test('tokens, keys and bearer headers never reach the file', async (t) => {
  const dir = await makeTempDir(t);
  const log = openLogger({ dir, settings: settings() });
  log.info('enrolling', { server: 'https://s', token: 'enr_secret1', otp: '123456', nested: { access_token: 'at_secret2' } });
  log.error('request failed', { error: new Error('401 for Authorization: Bearer eyJsecret3.x.y'), privateKey: 'k' });
  log.info('-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIsecret4\n-----END PRIVATE KEY-----');
  log.close();
  const text = await readFile(path.join(dir, 'agent.log'), 'utf8') + await readFile(path.join(dir, 'critical.log'), 'utf8');
  for (const secret of ['enr_secret1', '123456', 'at_secret2', 'eyJsecret3', 'secret4']) assert.equal(text.includes(secret), false, secret);
  assert.match(text, /"server":"https:\/\/s"/);
  assert.match(text, /Bearer \[redacted\]/);
});

test('redaction keeps error codes and ordinary fields', () => {
  assert.deepEqual(redact({ code: 'NO_DESIRED_STATE', status: 404, key: 'k', keys: 3 }), { code: 'NO_DESIRED_STATE', status: 404, key: '[redacted]', keys: 3 });
});

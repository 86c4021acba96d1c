import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { makeTempDir } from '../../test/support/temp-dir.ts';
import { openLogger } from '../logs/logger.ts';
import { eventCreateArgs, recordCriticalEvent, REVOKED_MESSAGE, writeEventLog } from './event-log.ts';

const LOGGING = { level: 'info', max_file_mb: 10, retention_days: 30 } as const;

test('eventcreate arguments: Application log, source pswm, id 100, the text cut at 1000 characters', () => {
  assert.deepEqual(eventCreateArgs('enrolled', 'INFORMATION'), ['/L', 'APPLICATION', '/T', 'INFORMATION', '/SO', 'pswm', '/ID', '100', '/D', 'enrolled']);
  assert.equal(eventCreateArgs('x'.repeat(5000), 'ERROR').at(-1)!.length, 1000);
});

test('a critical event goes to agent.log and critical.log; off Windows there is no Event Log to write', async (t) => {
  const dir = await makeTempDir(t);
  const log = openLogger({ dir, settings: LOGGING });
  await recordCriticalEvent(log, REVOKED_MESSAGE, { platform: 'linux' });
  log.close();
  for (const file of ['agent.log', 'critical.log']) {
    assert.match(await readFile(path.join(dir, file), 'utf8'), /"level":"critical","msg":"this agent has been revoked by the server; stopping"/);
  }
  assert.equal(await writeEventLog('x', 'ERROR', 'linux'), false);
});

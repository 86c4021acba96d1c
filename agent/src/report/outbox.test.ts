import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { makeTempDir } from '../../test/support/temp-dir.ts';
import { newOutboxRecord, openOutbox } from './outbox.ts';

const CHILD = fileURLToPath(new URL('../../test/support/outbox-child.ts', import.meta.url));

/** Runs the child, SIGKILLs it once it has reported `killAfter` appends, returns the ids it reported. */
async function appendThenKill(dir: string, count: number, killAfter: number): Promise<string[]> {
  const child = spawn(process.execPath, [CHILD, dir, String(count)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const appended: string[] = [];
  for await (const line of createInterface({ input: child.stdout })) {
    if (line.startsWith('appended ')) appended.push(line.slice('appended '.length));
    if (appended.length >= killAfter || line === 'waiting') {
      child.kill('SIGKILL');
      break;
    }
  }
  await new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.once('exit', resolve)));
  assert.equal(child.signalCode, 'SIGKILL');
  return appended;
}

test('a record appended before the agent is killed with SIGKILL is pending after restart', async (t) => {
  const dir = await makeTempDir(t);
  const appended = await appendThenKill(dir, 1, 1);
  const outbox = await openOutbox(dir);
  const pending = await outbox.pending();
  assert.deepEqual(pending.map((r) => r.id), appended);
  assert.deepEqual(pending[0].body, { index: 0, stdout: 'x'.repeat(1000) });
  assert.equal(await outbox.size(), 1);
});

test('killed in the middle of appending, every reported record survives, in order, and nothing torn', async (t) => {
  const dir = await makeTempDir(t);
  const appended = await appendThenKill(dir, 500, 25);
  const outbox = await openOutbox(dir);
  const pendingIds = (await outbox.pending()).map((r) => r.id);
  // the child may have finished one more append after its last report; none may be missing
  assert.deepEqual(pendingIds.slice(0, appended.length), appended);
  assert.ok(pendingIds.length <= appended.length + 1);
  assert.deepEqual((await readdir(dir)).filter((name) => name.endsWith('.tmp')), []);
});

test('acked records are gone, also after reopening; the rest keep their order', async (t) => {
  const dir = await makeTempDir(t);
  const outbox = await openOutbox(dir);
  const records = ['facts', 'script_runs', 'choco_runs', 'drift'].map((kind) => newOutboxRecord(kind, { kind }));
  for (const record of records) await outbox.append(record);
  await outbox.ack(records[1].id);
  await outbox.ack('not-there');
  assert.deepEqual((await outbox.pending()).map((r) => r.kind), ['facts', 'choco_runs', 'drift']);

  const reopened = await openOutbox(dir);
  const later = newOutboxRecord('heartbeat', {});
  await reopened.append(later);
  assert.deepEqual((await reopened.pending()).map((r) => r.kind), ['facts', 'choco_runs', 'drift', 'heartbeat']);
  await reopened.ack(records[0].id);
  assert.equal(await reopened.size(), 3);
});

test('appending the same id twice stores it once', async (t) => {
  const outbox = await openOutbox(await makeTempDir(t));
  const record = newOutboxRecord('facts', { a: 1 });
  await outbox.append(record);
  await outbox.append(record);
  assert.equal(await outbox.size(), 1);
});

test('an id that could escape the folder is refused', async (t) => {
  const outbox = await openOutbox(await makeTempDir(t));
  await assert.rejects(outbox.append({ id: '../x', kind: 'facts', body: {} }), /outbox record id/);
});

test('an unreadable record is set aside and does not block the others', async (t) => {
  const dir = await makeTempDir(t);
  await writeFile(path.join(dir, '0000000000000001-broken.json'), '{"id": "bro');
  const outbox = await openOutbox(dir);
  await outbox.append(newOutboxRecord('facts', {}));
  assert.deepEqual((await outbox.pending()).map((r) => r.kind), ['facts']);
  assert.ok((await readdir(dir)).includes('0000000000000001-broken.json.corrupt'));
});

test('failure counts survive a reopen and are forgotten with the record', async (t) => {
  const dir = await makeTempDir(t);
  const outbox = await openOutbox(dir);
  const record = newOutboxRecord('report', {});
  await outbox.append(record);
  assert.equal(await outbox.noteFailure(record.id), 1);
  const reopened = await openOutbox(dir);
  assert.equal(await reopened.noteFailure(record.id), 2);
  assert.deepEqual((await reopened.pending()).map((r) => r.id), [record.id], 'the count file is not a record');
  await reopened.ack(record.id);
  assert.equal(await (await openOutbox(dir)).noteFailure(record.id), 1);
});

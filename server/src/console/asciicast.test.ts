import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRecorder, headerLine, outputText, parseAsciicast } from './asciicast.ts';

test('events are asciicast v2 lines timed from the start; a transcript parses back in order', () => {
  const recorder = createRecorder(1000, 1024);
  const lines = [recorder.record('o', 'hello\r\n', 1000), recorder.record('i', 'ls\r', 1250), recorder.record('r', '120x40', 1500), recorder.record('o', 'a "quoted" \u001b[0m', 2750)];
  assert.deepEqual(lines, ['[0,"o","hello\\r\\n"]\n', '[0.25,"i","ls\\r"]\n', '[0.5,"r","120x40"]\n', '[1.75,"o","a \\"quoted\\" \\u001b[0m"]\n']);
  const text = headerLine({ width: 80, height: 24, timestamp: 1700000000, title: 'x' }) + lines.join('');
  const { header, events } = parseAsciicast(text);
  assert.deepEqual(header, { version: 2, width: 80, height: 24, timestamp: 1700000000, title: 'x' });
  assert.equal(outputText(events), 'hello\r\na "quoted" \u001b[0m');
});

test('the size cap stops recording (the session goes on) and says so', () => {
  const recorder = createRecorder(0, 60);
  assert.ok(recorder.record('o', 'x'.repeat(20), 0));
  assert.equal(recorder.truncated, false);
  assert.equal(recorder.record('o', 'y'.repeat(40), 10), undefined);
  assert.equal(recorder.truncated, true);
  assert.equal(recorder.record('o', 'z', 20), undefined, 'nothing after the cap, even what would fit');
  assert.ok(recorder.bytes <= 60);
});

test('a line cut by a crash is skipped; a file that is not asciicast v2 is refused', () => {
  const { events } = parseAsciicast('{"version":2,"width":80,"height":24,"timestamp":0}\n[0,"o","a"]\n[0.5,"o","b"\n');
  assert.deepEqual(events, [[0, 'o', 'a']]);
  assert.throws(() => parseAsciicast('{"version":1}\n'), /not an asciicast v2/);
  assert.throws(() => parseAsciicast(''), /empty transcript/);
});

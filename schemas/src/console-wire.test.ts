import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AGENT_TO_SERVER_TYPES, clampSize, decodeTerminalFrame, encodeTerminalFrame, parseControl } from './console-wire.ts';

test('a terminal frame carries the session id and the bytes untouched', () => {
  const session = '0f8fad5b-d9cb-469f-a165-70867728950e';
  const bytes = Buffer.from([0xe2, 0x82, 0xac, 0x00, 0x1b]);
  const frame = encodeTerminalFrame(session, bytes);
  assert.equal(frame.length, 16 + bytes.length);
  const decoded = decodeTerminalFrame(frame)!;
  assert.equal(decoded.session, session);
  assert.deepEqual(decoded.data, bytes);
  assert.equal(decodeTerminalFrame(Buffer.alloc(15)), undefined);
});

test('control messages: only known types; sizes clamped', () => {
  assert.deepEqual(parseControl('{"type":"console.started","session":"s","shell":"bash"}', AGENT_TO_SERVER_TYPES), { type: 'console.started', session: 's', shell: 'bash' });
  assert.equal(parseControl('{"type":"console.open"}', AGENT_TO_SERVER_TYPES), undefined);
  assert.equal(parseControl('not json', AGENT_TO_SERVER_TYPES), undefined);
  assert.deepEqual(clampSize(0, 5000), { cols: 1, rows: 1000 });
  assert.deepEqual(clampSize('80', undefined), { cols: 80, rows: 24 });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { truncateUtf8 } from './stored-text.ts';

test('truncation counts UTF-8 bytes and never splits a character', () => {
  assert.deepEqual(truncateUtf8('abc', 3), { text: 'abc', truncated: false });
  assert.deepEqual(truncateUtf8('abcd', 3), { text: 'abc', truncated: true });
  assert.deepEqual(truncateUtf8('ééé', 5), { text: 'éé', truncated: true }); // 6 bytes; the 5th is half an é
  assert.deepEqual(truncateUtf8('a😀', 4), { text: 'a', truncated: true }); // the emoji is 4 bytes
  assert.deepEqual(truncateUtf8('😀', 4), { text: '😀', truncated: false });
  assert.deepEqual(truncateUtf8('€€', 0), { text: '', truncated: true });
});


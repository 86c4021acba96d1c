import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findUnstorableString, storableOutput, truncateUtf8 } from './stored-text.ts';

test('truncation counts UTF-8 bytes and never splits a character', () => {
  assert.deepEqual(truncateUtf8('abc', 3), { text: 'abc', truncated: false });
  assert.deepEqual(truncateUtf8('abcd', 3), { text: 'abc', truncated: true });
  assert.deepEqual(truncateUtf8('ééé', 5), { text: 'éé', truncated: true }); // 6 bytes; the 5th is half an é
  assert.deepEqual(truncateUtf8('a😀', 4), { text: 'a', truncated: true }); // the emoji is 4 bytes
  assert.deepEqual(truncateUtf8('😀', 4), { text: '😀', truncated: false });
  assert.deepEqual(truncateUtf8('€€', 0), { text: '', truncated: true });
});

test('output with NUL or a lone surrogate is repaired, other text is kept as is', () => {
  assert.equal(storableOutput('ok\n'), 'ok\n');
  assert.equal(storableOutput('a\u0000b'), 'a\uFFFDb');
  assert.equal(storableOutput('x\uD800y'), 'x\uFFFDy');
});

test('the first unstorable string or key is named by its path, skipped paths aside', () => {
  assert.equal(findUnstorableString({ a: ['ok', { b: 'x\u0000' }] }, 'body'), 'body/a/1/b');
  assert.equal(findUnstorableString({ ['k\uDC00']: 1 }, 'body'), 'body (a key)');
  assert.equal(findUnstorableString({ out: '\u0000', n: 1, t: true, z: null }, 'body', (path) => path === 'body/out'), undefined);
});

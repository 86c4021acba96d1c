import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalJson, sha256Hex } from './canonical-json.ts';

test('object keys are sorted at every depth and whitespace is left out', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [3, 1], c: 'x' } }), '{"a":{"c":"x","d":[3,1]},"b":1}');
});

test('key order of the input does not change the text', () => {
  assert.equal(canonicalJson({ x: 1, y: { p: true, q: null } }), canonicalJson({ y: { q: null, p: true }, x: 1 }));
});

test('undefined properties are dropped and undefined array items become null', () => {
  assert.equal(canonicalJson({ a: undefined, b: [undefined, 2] }), '{"b":[null,2]}');
});

test('arrays keep their order', () => {
  assert.notEqual(canonicalJson([1, 2]), canonicalJson([2, 1]));
});

test('strings are escaped as JSON and non-ASCII text is kept', () => {
  assert.equal(canonicalJson({ 'é': 'line\n"q"' }), '{"é":"line\\n\\"q\\""}');
});

test('a top-level undefined is refused rather than hashed as an empty string', () => {
  assert.throws(() => canonicalJson(undefined), TypeError);
});

test('sha256Hex hashes the UTF-8 bytes', () => {
  assert.equal(sha256Hex(''), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  assert.equal(sha256Hex('é'), '4a99557e4033c3539de2eb65472017cad5f9557f7a0625a09f1c3f6e2ba69c4c');
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import reportSchema from '../json/report.schema.json' with { type: 'json' };
import { EXIT_CODE_MAX, EXIT_CODE_MIN, findInputProblem, INPUT_REASONS, jsonTextTooDeep, MAX_DEPTH, repairText, sanitizeInput, textProblem } from './input-rules.ts';

/** `levels` arrays inside one another, with `leaf` in the innermost. */
function nested(levels: number, leaf: unknown = 1): unknown {
  let value = leaf;
  for (let i = 0; i < levels; i++) value = [value];
  return value;
}

test('ordinary JSON breaks no rule', () => {
  const report = { id: 'a', facts: { os: { name: 'Windows', build: 26100 }, tags: ['x', 'é', '😀'] }, exit_code: 3221225477, ratio: 0.5, none: null, ok: true };
  assert.equal(findInputProblem(report), undefined);
  assert.deepEqual(sanitizeInput(report), { value: report, dropped: [] });
});

test('U+0000 and unpaired surrogates in strings are found with their path', () => {
  assert.deepEqual(findInputProblem({ facts: { os: 'a\u0000b' } }), { path: '/facts/os', reason: INPUT_REASONS.nul });
  assert.deepEqual(findInputProblem({ list: ['ok', 'x\uD800'] }), { path: '/list/1', reason: INPUT_REASONS.surrogate });
  assert.deepEqual(findInputProblem('\uDC00'), { path: '', reason: INPUT_REASONS.surrogate });
  assert.equal(findInputProblem('\uD83D\uDE00'), undefined, 'a paired surrogate is a character');
});

test('a bad key is reported at the object holding it', () => {
  assert.deepEqual(findInputProblem({ facts: { 'a\u0000': 1 } }), { path: '/facts', reason: INPUT_REASONS.keyNul });
  assert.deepEqual(findInputProblem({ facts: { '\uDBFF': 1 } }), { path: '/facts', reason: INPUT_REASONS.keySurrogate });
});

test('keys with / and ~ are escaped in paths (RFC 6901)', () => {
  assert.deepEqual(findInputProblem({ 'C:/x~y': '\u0000' }), { path: '/C:~1x~0y', reason: INPUT_REASONS.nul });
});

test(`nesting is allowed to ${MAX_DEPTH} levels and refused beyond, even 20,000 deep`, () => {
  assert.equal(findInputProblem(nested(MAX_DEPTH)), undefined);
  assert.deepEqual(findInputProblem(nested(MAX_DEPTH + 1)), { path: `/${Array(MAX_DEPTH).fill(0).join('/')}`, reason: INPUT_REASONS.depth });
  assert.equal(findInputProblem(nested(20_000))?.reason, INPUT_REASONS.depth);
  assert.equal(findInputProblem(JSON.parse('{"a":'.repeat(20_000) + '1' + '}'.repeat(20_000)))?.reason, INPUT_REASONS.depth);
});

test('a cycle is caught by the depth limit instead of looping', () => {
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.equal(findInputProblem(cyclic)?.reason, INPUT_REASONS.depth);
});

test('numbers must be finite and within the safe integers', () => {
  assert.deepEqual(findInputProblem({ n: 1e20 }), { path: '/n', reason: INPUT_REASONS.range });
  assert.deepEqual(findInputProblem({ n: -1e300 }), { path: '/n', reason: INPUT_REASONS.range });
  assert.deepEqual(findInputProblem({ n: JSON.parse('1e400') }), { path: '/n', reason: INPUT_REASONS.notFinite });
  assert.deepEqual(findInputProblem([Number.NaN]), { path: '/0', reason: INPUT_REASONS.notFinite });
  assert.equal(findInputProblem({ n: Number.MAX_SAFE_INTEGER, m: -Number.MAX_SAFE_INTEGER, f: 1.25e-300 }), undefined);
});

test('values JSON cannot carry are found', () => {
  assert.deepEqual(findInputProblem({ big: 1n }), { path: '/big', reason: INPUT_REASONS.notJson });
  assert.deepEqual(findInputProblem({ f: () => 1 }), { path: '/f', reason: INPUT_REASONS.notJson });
});

test('the first problem in document order is the one reported', () => {
  assert.equal(findInputProblem({ a: { b: 'ok', c: '\u0000' }, d: 1e20 })?.path, '/a/c');
  assert.equal(findInputProblem([[1, [2, Infinity]], '\u0000'])?.path, '/0/1/1');
});

test('exit codes span signed and unsigned 32-bit, and the report schema says the same', () => {
  assert.ok(EXIT_CODE_MIN <= -1073741819 && 0xC0000005 <= EXIT_CODE_MAX);
  assert.equal(EXIT_CODE_MAX, 4294967295);
  assert.equal(EXIT_CODE_MIN, -2147483648);
  const { minimum, maximum } = reportSchema.$defs.exitCode;
  assert.deepEqual([minimum, maximum], [EXIT_CODE_MIN, EXIT_CODE_MAX]);
});

test('sanitizeInput removes offending leaves, keys and too-deep containers and lists them', () => {
  const input = {
    hostname: 'ws\u0000',
    facts: { os: 'Windows', 'k\uD800': 'v', big: 1e20, list: ['a', '\uDC00', 'b'], deep: nested(MAX_DEPTH) },
    keep: [1, 2],
  };
  const { value, dropped } = sanitizeInput(input);
  // The root is level 1 and /facts/deep level 3, so the array 62 levels further in is level 65: it goes.
  assert.deepEqual(dropped.map((d) => d.path), ['/hostname', '/facts', '/facts/big', '/facts/list/1', `/facts/deep${'/0'.repeat(MAX_DEPTH - 2)}`]);
  assert.deepEqual(dropped.map((d) => d.reason), [INPUT_REASONS.nul, INPUT_REASONS.keySurrogate, INPUT_REASONS.range, INPUT_REASONS.surrogate, INPUT_REASONS.depth]);
  const facts = (value as { facts: Record<string, unknown> }).facts;
  assert.deepEqual(Object.keys(value as object), ['facts', 'keep']);
  assert.deepEqual(Object.keys(facts), ['os', 'list', 'deep']);
  assert.deepEqual(facts.list, ['a', 'b']);
  assert.equal(findInputProblem(value), undefined, 'the cleaned copy breaks no rule');
  assert.equal(input.hostname, 'ws\u0000', 'the input is not changed');
});

test('sanitizeInput repairs strings at the paths asked for instead of removing them', () => {
  const { value, dropped } = sanitizeInput({ stdout: 'a\u0000b\uD800', facts: { x: '\u0000' } }, { repairAt: (path) => path === '/stdout' });
  assert.deepEqual(value, { stdout: 'a\uFFFDb\uFFFD', facts: {} });
  assert.deepEqual(dropped, [
    { path: '/stdout', reason: `${INPUT_REASONS.nul}; replaced by U+FFFD`, repaired: true },
    { path: '/facts/x', reason: INPUT_REASONS.nul },
  ]);
});

test('a root that breaks a rule sanitizes to undefined', () => {
  assert.deepEqual(sanitizeInput('\u0000'), { value: undefined, dropped: [{ path: '', reason: INPUT_REASONS.nul }] });
  assert.equal(sanitizeInput(nested(20_000)).dropped.length, 1);
});

test('textProblem and repairText', () => {
  assert.equal(textProblem('fine'), undefined);
  assert.equal(textProblem('\u0000'), INPUT_REASONS.nul);
  assert.equal(repairText('ok'), 'ok');
  assert.equal(repairText('\uDFFFx\u0000'), '\uFFFDx\uFFFD');
});

test('jsonTextTooDeep counts nesting in the text, ignoring brackets inside strings', () => {
  assert.equal(jsonTextTooDeep(JSON.stringify(nested(MAX_DEPTH))), false);
  assert.equal(jsonTextTooDeep(JSON.stringify(nested(MAX_DEPTH + 1))), true);
  assert.equal(jsonTextTooDeep(JSON.stringify({ a: { b: nested(MAX_DEPTH - 1) } })), true);
  assert.equal(jsonTextTooDeep('['.repeat(1_000_000)), true, 'an unterminated flood of brackets');
  const bracketsInText = JSON.stringify({ s: '['.repeat(1000), t: 'quote \\" and [[[', u: '\\', v: ['{'.repeat(100)] });
  assert.equal(jsonTextTooDeep(bracketsInText), false);
  assert.equal(jsonTextTooDeep('{"a":"unterminated [[[['), false, 'malformed text is left to the parser');
  assert.equal(jsonTextTooDeep(''), false);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { API_ERRORS } from '../src/api/errors.ts';
import { OPERATIONS_DOC, withOptionsTable } from '../src/config/options-doc.ts';

test('every API error code is documented in docs/api.md with its status', async () => {
  const doc = await readFile(new URL('../../docs/api.md', import.meta.url), 'utf8');
  for (const [code, { status }] of Object.entries(API_ERRORS)) {
    assert.match(doc, new RegExp(`^\\| \`${code}\` \\| ${status} \\| \\S`, 'm'), `${code} (${status}) is missing from docs/api.md`);
  }
});

test('the configuration table in docs/operations.md is generated from the option table', async () => {
  const doc = await readFile(OPERATIONS_DOC, 'utf8');
  assert.equal(doc, withOptionsTable(doc), 'stale: run `npx node server/src/config/options-doc.ts`');
});

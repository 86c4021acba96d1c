import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from '../src/logger.ts';
import { loadConfig } from '../src/config/config.ts';

test('the logger redacts authorization headers, tokens and secrets', () => {
  const lines: string[] = [];
  const sink = new Writable({ write(chunk, _encoding, done) { lines.push(chunk.toString()); done(); } });
  const log = createLogger({ logLevel: 'info' }, sink);
  const config = loadConfig([], { PSWM_GIT_TOKEN: 'ghp_secret1', PSWM_WEBHOOK_SECRET: 'hook_secret2', DATABASE_URL: 'postgres://u:pw_secret3@h/db' });
  log.info({ req: { headers: { authorization: 'Bearer pswm_secret4' } } }, 'request');
  log.info({ token: 'pswm_secret5', config }, 'startup');
  const output = lines.join('');
  for (const secret of ['secret1', 'secret2', 'secret3', 'secret4', 'secret5']) assert.doesNotMatch(output, new RegExp(secret));
  assert.match(output, /\[redacted\]/);
  assert.match(output, /"policyBranch":"main"/, 'the rest of the object is still logged');
});

import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { dataPaths, defaultDataDir, externalFactsDir } from './paths.ts';

test('the data folder is ProgramData on windows and /var/lib/pswm elsewhere', () => {
  assert.equal(defaultDataDir({}, 'win32'), 'C:\\ProgramData\\pswm-reborn');
  assert.equal(defaultDataDir({}, 'linux'), '/var/lib/pswm');
  assert.equal(defaultDataDir({}, 'darwin'), '/var/lib/pswm');
});

test('PSWM_HOME overrides the data folder, made absolute', () => {
  assert.equal(defaultDataDir({ PSWM_HOME: '/tmp/agent-a' }, 'linux'), '/tmp/agent-a');
  assert.equal(defaultDataDir({ PSWM_HOME: 'rel' }, 'linux'), path.resolve('rel'));
});

test('the layout names every file and folder of DESIGN §6', () => {
  const p = dataPaths('/var/lib/pswm');
  assert.equal(p.config, '/var/lib/pswm/config.json');
  assert.equal(p.privateKey, '/var/lib/pswm/agent.key');
  assert.equal(p.externalFacts, '/var/lib/pswm/external_facts');
  assert.equal(p.outbox, '/var/lib/pswm/outbox');
});

test('a windows data folder gets backslash paths even when computed on linux', () => {
  assert.equal(dataPaths('C:\\ProgramData\\pswm-reborn').logs, 'C:\\ProgramData\\pswm-reborn\\logs');
});

test('the external facts folder is the configured one (relative to the data folder), else external_facts', () => {
  const p = dataPaths('/var/lib/pswm');
  assert.equal(externalFactsDir(p), '/var/lib/pswm/external_facts');
  assert.equal(externalFactsDir(p, '/etc/pswm/facts.d'), '/etc/pswm/facts.d');
  assert.equal(externalFactsDir(p, 'site-facts'), '/var/lib/pswm/site-facts');
  assert.equal(externalFactsDir(dataPaths('C:\\ProgramData\\pswm-reborn'), 'D:\\facts'), 'D:\\facts');
  assert.equal(externalFactsDir(dataPaths('C:\\ProgramData\\pswm-reborn'), 'site'), 'C:\\ProgramData\\pswm-reborn\\site');
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseChocoList, parseChocoOutdated, parseChocoPinList } from './parse.ts';

test('choco list -r lines become name and version', () => {
  assert.deepEqual(parseChocoList('7zip|24.8.0\r\nchocolatey|2.4.1\n'), [
    { name: '7zip', version: '24.8.0' },
    { name: 'chocolatey', version: '2.4.1' },
  ]);
});

test('lines that are not id|version are ignored', () => {
  const text = ['Chocolatey v2.4.1', '[NuGet] Something happened', 'git|2.47.0', 'a|b|c', '|1.0', 'name with space|1.0', '', 'vlc|3.0.21'].join('\n');
  assert.deepEqual(parseChocoList(text), [
    { name: 'git', version: '2.47.0' },
    { name: 'vlc', version: '3.0.21' },
  ]);
});

test('choco pin list -r has the same shape as list', () => {
  assert.deepEqual(parseChocoPinList('git|2.47.0\n'), [{ name: 'git', version: '2.47.0' }]);
});

test('choco outdated -r lines become current, available and pinned', () => {
  const text = ['git|2.46.0|2.47.0|false', 'vlc|3.0.20|3.0.21|true'].join('\r\n');
  assert.deepEqual(parseChocoOutdated(text), [
    { name: 'git', current: '2.46.0', available: '2.47.0', pinned: false },
    { name: 'vlc', current: '3.0.20', available: '3.0.21', pinned: true },
  ]);
});

test('malformed outdated lines are skipped', () => {
  const text = ['[NuGet] Unable to load the service index for source x.', 'git|2.46.0|2.47.0', 'git|2.46.0|2.47.0|maybe', 'git|2.46.0||false', 'ok|1|2|false|extra', 'vlc|3.0.20|3.0.21|false'].join('\n');
  assert.deepEqual(parseChocoOutdated(text), [{ name: 'vlc', current: '3.0.20', available: '3.0.21', pinned: false }]);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PLATFORMS, SHELLS } from '../../../../schemas/src/model.ts';
import { buildScriptCommand, scriptExtension, scriptFileContent } from './command-line.ts';

test('every shell on every platform has a command line or a reason to skip', () => {
  const table: Record<string, unknown> = {};
  for (const platform of PLATFORMS) for (const shell of SHELLS) table[`${shell}@${platform}`] = buildScriptCommand(shell, 'F', platform);
  assert.deepEqual(table, {
    'powershell@windows': { ok: true, command: 'powershell.exe', args: ['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-File', 'F'] },
    'pwsh@windows': { ok: true, command: 'pwsh.exe', args: ['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-File', 'F'] },
    'cmd@windows': { ok: true, command: 'cmd.exe', args: ['/d', '/c', 'F'] },
    'sh@windows': { ok: false, reason: 'shell sh is not supported on windows' },
    'bash@windows': { ok: false, reason: 'shell bash is not supported on windows' },
    'powershell@linux': { ok: false, reason: 'shell powershell is only available on windows, this is linux' },
    'pwsh@linux': { ok: true, command: 'pwsh', args: ['-NoProfile', '-NonInteractive', '-File', 'F'] },
    'cmd@linux': { ok: false, reason: 'shell cmd is only available on windows, this is linux' },
    'sh@linux': { ok: true, command: 'sh', args: ['F'] },
    'bash@linux': { ok: true, command: 'bash', args: ['F'] },
    'powershell@darwin': { ok: false, reason: 'shell powershell is only available on windows, this is darwin' },
    'pwsh@darwin': { ok: true, command: 'pwsh', args: ['-NoProfile', '-NonInteractive', '-File', 'F'] },
    'cmd@darwin': { ok: false, reason: 'shell cmd is only available on windows, this is darwin' },
    'sh@darwin': { ok: true, command: 'sh', args: ['F'] },
    'bash@darwin': { ok: true, command: 'bash', args: ['F'] },
  });
});

test('no command line elevates', () => {
  for (const platform of PLATFORMS)
    for (const shell of SHELLS) {
      const line = JSON.stringify(buildScriptCommand(shell, 'F', platform));
      assert.doesNotMatch(line, /sudo|runas|RunAs|doas|pkexec/);
    }
});

test('script files get the extension and encoding their shell expects', () => {
  assert.equal(scriptExtension('powershell'), '.ps1');
  assert.equal(scriptExtension('pwsh'), '.ps1');
  assert.equal(scriptExtension('cmd'), '.cmd');
  assert.equal(scriptExtension('bash'), '.sh');
  assert.equal(scriptFileContent('powershell', 'é'), '\uFEFFé');
  assert.equal(scriptFileContent('cmd', 'a\nb\r\nc'), 'a\r\nb\r\nc');
  assert.equal(scriptFileContent('sh', 'a\nb'), 'a\nb');
});

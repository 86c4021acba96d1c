// The real `pswm-server console` binary in a real terminal (tmux): raw mode, keys typed into the
// operator's terminal reach the remote shell, Ctrl-C interrupts, a window resize reaches `tput cols`,
// Ctrl-] detaches with exit code 0, and the terminal settings are restored afterwards.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { enrolledAgent, startFleet } from './support/fleet.ts';
import { makeTempDir } from './support/temp-dir.ts';

const SERVER_MAIN = fileURLToPath(new URL('../../server/src/cli/main.ts', import.meta.url));
const run = promisify(execFile);

test('pswm-server console in tmux: keys, Ctrl-C, resize, Ctrl-] and a restored terminal', async (t) => {
  const fleet = await startFleet(t);
  const token = (await readFile(path.join(fleet.dataDir, 'initial-admin-token'), 'utf8')).trim();
  const agent = await enrolledAgent(t, fleet, 'lab-tmux', 'fabrikam/lab-linux');
  const running = agent.start(['agent'], { HOME: agent.home });
  await running.waitFor(/"msg":"iteration finished"/, 60_000);

  const dir = await makeTempDir(t, 'pswm-tmux-');
  const socket = `pswm-test-${randomBytes(4).toString('hex')}`;
  const tmux = (...args: string[]) => run('tmux', ['-L', socket, ...args]);
  t.after(() => tmux('kill-server').catch(() => {}));
  // the pane's program: the console between two snapshots of the terminal settings
  const script = path.join(dir, 'operator.sh');
  await writeFile(script, [
    'stty -g > before',
    `PSWM_ADMIN_TOKEN='${token}' '${process.execPath}' '${SERVER_MAIN}' console lab-tmux --server '${fleet.url}' --reason 'tmux test'`,
    'echo "EXIT:$?"',
    'stty -g > after',
    'sleep 600',
  ].join('\n'));
  await tmux('new-session', '-d', '-s', 'op', '-x', '100', '-y', '30', '-c', dir, `sh ${script}`);
  const screen = async () => (await tmux('capture-pane', '-p', '-J', '-t', 'op', '-S', '-200')).stdout;
  const waitForScreen = async (pattern: RegExp, what: string, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = await screen();
      const match = pattern.exec(text);
      if (match) return match;
      if (Date.now() > deadline) throw new Error(`no ${what} on the tmux screen within ${timeoutMs} ms:\n${text}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };

  await waitForScreen(/connected \(.*Ctrl-\] detaches/, 'connected line');
  await tmux('send-keys', '-t', 'op', 'echo COLS-$(tput cols)', 'Enter');
  await waitForScreen(/\nCOLS-100\s/, 'tput cols of 100');

  await tmux('send-keys', '-t', 'op', 'sleep 100; echo NOT-INTERRUPTED', 'Enter');
  await new Promise((resolve) => setTimeout(resolve, 500));
  await tmux('send-keys', '-t', 'op', 'C-c');
  await tmux('send-keys', '-t', 'op', 'echo AFTER-$((6*7))', 'Enter');
  await waitForScreen(/\nAFTER-42\s/, 'the prompt back after Ctrl-C');
  assert.doesNotMatch(await screen(), /\nNOT-INTERRUPTED/);

  await tmux('resize-window', '-t', 'op', '-x', '120', '-y', '30');
  await tmux('send-keys', '-t', 'op', 'echo COLS-$(tput cols)', 'Enter');
  await waitForScreen(/\nCOLS-120\s/, 'tput cols of 120 after the resize');

  await tmux('send-keys', '-t', 'op', 'C-]');
  await waitForScreen(/console session ended \(operator-exit\)[\s\S]*EXIT:0/, 'the session end and exit code 0');
  await waitForScreen(/EXIT:0/, 'exit code');
  const deadline = Date.now() + 10_000;
  let after = '';
  while (!(after = await readFile(path.join(dir, 'after'), 'utf8').catch(() => '')) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(after, await readFile(path.join(dir, 'before'), 'utf8'), 'the terminal settings are restored after the session');
});

// The text terminal that renders console transcripts on the server and in the replay.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TerminalText, terminalText } from '../src/lib/terminal-text.ts';

test('colours, titles and modes are dropped; CR LF ends a line', () => {
  const output = '\x1b[?2004h\x1b]0;root@lab: ~\x07\x1b[01;32mroot@lab\x1b[00m:~# echo hi\r\nhi\r\n\x1b[?2004l';
  assert.equal(terminalText([output]), 'root@lab:~# echo hi\nhi\n');
});

test('carriage return, backspace, erase-in-line and cursor moves overwrite like a terminal', () => {
  assert.equal(terminalText(['progress 10%\rprogress 99%\r\n']), 'progress 99%\n');
  assert.equal(terminalText(['abc\b\bX\r\n']), 'aXc\n');
  assert.equal(terminalText(['hello world\r\x1b[6C\x1b[Kthere\r\n']), 'hello there\n');
  assert.equal(terminalText(['abcdef\x1b[3D\x1b[1P\r\n']), 'abcef\n');
  assert.equal(terminalText(['a\tb\r\n']), 'a       b\n');
});

test('an escape sequence cut between two chunks is completed by the next', () => {
  const terminal = new TerminalText();
  terminal.write('red: \x1b[3');
  assert.equal(terminal.text(), 'red:', 'trailing blanks are trimmed');
  terminal.write('1mR\x1b');
  terminal.write(']0;title\x1b');
  terminal.write('\\ok');
  assert.equal(terminal.text(), 'red: Rok');
});

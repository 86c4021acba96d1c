// A terminal's output as plain text: enough of a terminal to read a shell session back (carriage
// return, backspace, tab, erase-in-line, cursor left/right/column), with colours, titles, modes and
// every other escape sequence dropped. Lines scroll into a history that is never cleared, so a replay
// keeps everything that was printed. Pure; used by the server render and by the replay script.

const ESC = '\x1b';
const TAB = 8;

export class TerminalText {
  private readonly lines: string[][] = [[]];
  private row = 0;
  private col = 0;
  /** An escape sequence cut at the end of the last chunk. */
  private pending = '';

  write(chunk: string): this {
    const data = this.pending + chunk;
    this.pending = '';
    let i = 0;
    while (i < data.length) {
      const ch = data[i];
      if (ch === ESC) {
        const end = escapeEnd(data, i);
        if (end === undefined) {
          this.pending = data.slice(i);
          break;
        }
        this.escape(data.slice(i, end));
        i = end;
        continue;
      }
      this.char(ch);
      i++;
    }
    return this;
  }

  text(): string {
    return this.lines.map((line) => line.join('').trimEnd()).join('\n');
  }

  private char(ch: string): void {
    if (ch === '\r') this.col = 0;
    else if (ch === '\n') {
      this.row++;
      this.col = 0;
      if (this.row === this.lines.length) this.lines.push([]);
    } else if (ch === '\b') this.col = Math.max(0, this.col - 1);
    else if (ch === '\t') this.put(' '.repeat(TAB - (this.col % TAB)));
    else if (ch >= ' ' && ch !== '\x7f') this.put(ch);
    // other control characters (bell, shift in/out) print nothing
  }

  private put(text: string): void {
    const line = this.lines[this.row];
    for (const ch of text) {
      while (line.length < this.col) line.push(' ');
      line[this.col++] = ch;
    }
  }

  private escape(sequence: string): void {
    if (sequence[1] !== '[') return;
    const final = sequence.at(-1)!;
    const params = sequence.slice(2, -1);
    if (params.startsWith('?')) return;
    const n = Number.parseInt(params, 10);
    const count = Number.isFinite(n) && n > 0 ? n : 1;
    const line = this.lines[this.row];
    switch (final) {
      case 'C': this.col += count; break;
      case 'D': this.col = Math.max(0, this.col - count); break;
      case 'G': this.col = count - 1; break;
      case 'K':
        if (!params || params === '0') line.length = Math.min(line.length, this.col);
        else if (params === '1') for (let c = 0; c < Math.min(this.col + 1, line.length); c++) line[c] = ' ';
        else line.length = 0;
        break;
      case 'P': line.splice(this.col, count); break;
      case '@': if (this.col < line.length) line.splice(this.col, 0, ...' '.repeat(count)); break;
      default: // colours, scrolling regions, cursor up/down and absolute moves: not kept in a text history
    }
  }
}

/** Where the escape sequence starting at `start` ends (exclusive), or undefined when it is cut off. */
function escapeEnd(data: string, start: number): number | undefined {
  const kind = data[start + 1];
  if (kind === undefined) return undefined;
  if (kind === '[') {
    // CSI: parameter and intermediate bytes, then one final byte in @..~
    for (let i = start + 2; i < data.length; i++) if (data[i] >= '@' && data[i] <= '~') return i + 1;
    return undefined;
  }
  if (kind === ']' || kind === 'P' || kind === '_' || kind === '^') {
    // OSC, DCS, APC, PM: up to BEL or ESC \
    for (let i = start + 2; i < data.length; i++) {
      if (data[i] === '\x07') return i + 1;
      if (data[i] === ESC) return data[i + 1] === undefined ? undefined : i + 2;
    }
    return undefined;
  }
  // Character set designations take one more character: ESC ( B
  if ('()*+'.includes(kind)) return data[start + 2] === undefined ? undefined : start + 3;
  return start + 2;
}

/** The output text of a whole transcript's "o" events. */
export function terminalText(chunks: Iterable<string>): string {
  const terminal = new TerminalText();
  for (const chunk of chunks) terminal.write(chunk);
  return terminal.text();
}

// Plays a console session's transcript in its <pre>: the output events with their timing (long pauses
// shortened like `pswm-server console replay`), at the chosen speed, through the same text terminal
// the server used to render the page. The transcript is in the page (data-cast): replaying reads
// nothing more from the server.
import { TerminalText } from '../lib/terminal-text.ts';
import { parseAsciicast, replayFrames } from '../lib/transcript.ts';

const root = document.querySelector<HTMLElement>('[data-replay]');
if (root) setUp(root);

function setUp(root: HTMLElement): void {
  const screen = root.querySelector<HTMLElement>('[data-replay-screen]')!;
  const controls = root.querySelector<HTMLElement>('[data-replay-controls]')!;
  const button = root.querySelector<HTMLButtonElement>('[data-replay-play]')!;
  const speedSelect = root.querySelector<HTMLSelectElement>('[data-replay-speed]')!;
  const clock = root.querySelector<HTMLElement>('[data-replay-clock]')!;
  const frames = replayFrames(parseAsciicast(screen.dataset.cast ?? '').events);
  const length = frames.at(-1)?.[0] ?? 0;

  // Where the replay is: frames written so far, and the transcript time it stands at.
  let terminal = new TerminalText();
  let next = 0;
  let position = 0;
  let timer: number | undefined;
  let startedAt = 0;

  const speed = () => Number(speedSelect.value) || 1;
  const show = (state: 'stopped' | 'playing' | 'paused' | 'finished') => {
    screen.dataset.state = state;
    button.textContent = state === 'playing' ? 'Pause' : state === 'paused' ? 'Resume' : 'Play';
    clock.textContent = `${position.toFixed(1)} s of ${length.toFixed(1)} s`;
  };

  const step = () => {
    position = Math.min(length, (performance.now() - startedAt) / 1000 * speed());
    let wrote = false;
    while (next < frames.length && frames[next][0] <= position) {
      terminal.write(frames[next++][1]);
      wrote = true;
    }
    if (wrote) {
      screen.textContent = terminal.text();
      screen.scrollTop = screen.scrollHeight;
    }
    if (next >= frames.length) {
      timer = undefined;
      position = length;
      return show('finished');
    }
    show('playing');
    const wait = (frames[next][0] - position) / speed() * 1000;
    timer = window.setTimeout(step, Math.max(0, Math.min(wait, 250)));
  };

  const play = () => {
    if (screen.dataset.state !== 'paused') {
      terminal = new TerminalText();
      next = 0;
      position = 0;
      screen.textContent = '';
    }
    startedAt = performance.now() - position / speed() * 1000;
    step();
  };

  const pause = () => {
    window.clearTimeout(timer);
    timer = undefined;
    show('paused');
  };

  button.addEventListener('click', () => (screen.dataset.state === 'playing' ? pause() : play()));
  // A new speed keeps the replay where it is.
  speedSelect.addEventListener('change', () => {
    if (screen.dataset.state === 'playing') startedAt = performance.now() - position / speed() * 1000;
  });
  controls.hidden = false;
  show('stopped');
}

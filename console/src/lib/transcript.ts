// A stored asciicast v2 transcript as the page shows it. Pure: the parser and the replay timing are
// the server's own, so the page reads transcripts exactly as `pswm-server console replay` does.
import { parseAsciicast, replayFrames } from '../../../server/src/console/asciicast.ts';
import { terminalText } from './terminal-text.ts';

export { parseAsciicast, replayFrames };

/** What the operator's terminal showed, as text. */
export function transcriptOutput(transcript: string): string {
  return terminalText(replayFrames(parseAsciicast(transcript).events).map(([, data]) => data));
}

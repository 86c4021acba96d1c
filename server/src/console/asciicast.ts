// Transcripts in asciicast v2 (https://docs.asciinema.org/manual/asciicast/v2/): a JSON header line,
// then one JSON array per event, [seconds since start, code, data], with "o" for output, "i" for
// input and "r" for a resize ("COLSxROWS"). Pure: the caller passes the clock and stores the lines.

export type EventCode = 'o' | 'i' | 'r';

export interface AsciicastHeader {
  version: 2;
  width: number;
  height: number;
  /** Unix seconds when the session started. */
  timestamp: number;
  title?: string;
  env?: Record<string, string>;
}

export type AsciicastEvent = [number, EventCode, string];

export function headerLine(header: Omit<AsciicastHeader, 'version'>): string {
  return `${JSON.stringify({ version: 2, ...header })}\n`;
}

export interface TranscriptRecorder {
  /** The event line for these bytes, or undefined once the cap is reached (then `truncated` is set). */
  record(code: EventCode, data: string, atMs: number): string | undefined;
  readonly bytes: number;
  readonly truncated: boolean;
}

/** Records events from `startedAtMs` on, up to `maxBytes` of event lines; the session goes on past it. */
export function createRecorder(startedAtMs: number, maxBytes: number): TranscriptRecorder {
  let bytes = 0;
  let truncated = false;
  return {
    record(code, data, atMs) {
      if (truncated) return undefined;
      const line = `${JSON.stringify([Math.max(0, atMs - startedAtMs) / 1000, code, data])}\n`;
      const size = Buffer.byteLength(line);
      if (bytes + size > maxBytes) {
        truncated = true;
        return undefined;
      }
      bytes += size;
      return line;
    },
    get bytes() {
      return bytes;
    },
    get truncated() {
      return truncated;
    },
  };
}

/** A whole transcript back into its header and events; lines that are not events are skipped. */
export function parseAsciicast(text: string): { header: AsciicastHeader; events: AsciicastEvent[] } {
  const lines = text.split('\n').filter((line) => line.trim());
  if (!lines.length) throw new Error('empty transcript');
  const header = JSON.parse(lines[0]) as AsciicastHeader;
  if (header.version !== 2) throw new Error(`not an asciicast v2 transcript (version ${String(header.version)})`);
  const events: AsciicastEvent[] = [];
  for (const line of lines.slice(1)) {
    try {
      const event = JSON.parse(line);
      if (Array.isArray(event) && typeof event[0] === 'number' && typeof event[1] === 'string' && typeof event[2] === 'string') events.push(event as AsciicastEvent);
    } catch {
      // a line cut by a crash mid-write: the events before it still replay
    }
  }
  return { header, events };
}

/** What the operator saw: every output event's text, in order. */
export function outputText(events: AsciicastEvent[]): string {
  return events.filter(([, code]) => code === 'o').map(([, , data]) => data).join('');
}

/** Replay never sits longer than this on one pause (before any speed factor), like asciinema's idle limit. */
export const MAX_REPLAY_PAUSE_SECONDS = 2;

/** The output events as [seconds from the start, data], pauses over `maxPause` seconds shortened to it. */
export function replayFrames(events: AsciicastEvent[], maxPause = MAX_REPLAY_PAUSE_SECONDS): Array<[number, string]> {
  const frames: Array<[number, string]> = [];
  let previous = 0;
  let clock = 0;
  for (const [at, code, data] of events) {
    if (code !== 'o') continue;
    clock += Math.min(Math.max(0, at - previous), maxPause);
    previous = at;
    frames.push([clock, data]);
  }
  return frames;
}

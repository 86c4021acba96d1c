/** Keeps the first `maxBytes` of a stream and keeps counting past it: the pipe must still be
 * drained, or a chatty script blocks on a full pipe and only the timeout ends it. */
export interface CappedOutput {
  push(chunk: Buffer): void;
  text(): string;
  truncated(): boolean;
}

export function createCappedOutput(maxBytes: number): CappedOutput {
  const kept: Buffer[] = [];
  let keptBytes = 0;
  let dropped = false;
  return {
    push(chunk) {
      const room = maxBytes - keptBytes;
      if (chunk.length > room) dropped = true;
      if (room <= 0) return;
      const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
      kept.push(part);
      keptBytes += part.length;
    },
    text: () => Buffer.concat(kept).toString('utf8'),
    truncated: () => dropped,
  };
}

// A warning that may fire thousands of times a second (refusals at capacity, abandoned upgrades)
// written as one line per interval that says how many there were.

/** Counts an event and logs it at most once per `everyMs`, with how many happened since the last line. */
export function throttledLog(everyMs: number, write: (count: number) => void): () => void {
  let count = 0;
  let lastAt = Number.NEGATIVE_INFINITY;
  return () => {
    count++;
    const now = Date.now();
    if (now - lastAt < everyMs) return;
    write(count);
    lastAt = now;
    count = 0;
  };
}

// What a benchmark started (databases, servers, simulators, temp folders), undone in reverse order
// when it ends, however it ends: one failing cleanup is reported and the others still run.
export interface Cleanups {
  push(fn: () => unknown): void;
  /** The test fixtures' hook shape (freshDatabase, templateRepo, repoOf). */
  hooks: { after(fn: () => unknown): void };
  runAll(): Promise<void>;
}

export function createCleanups(report: (line: string) => void): Cleanups {
  const stack: Array<() => unknown> = [];
  return {
    push: (fn) => void stack.push(fn),
    hooks: { after: (fn) => void stack.push(fn) },
    async runAll() {
      for (const cleanup of stack.splice(0).reverse()) {
        try {
          await cleanup();
        } catch (error) {
          report(`cleanup: ${(error as Error).message}`);
        }
      }
    },
  };
}

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
  const runAll = async () => {
    for (const cleanup of stack.splice(0).reverse()) {
      try {
        await cleanup();
      } catch (error) {
        report(`cleanup: ${(error as Error).message}`);
      }
    }
  };
  // Ctrl-C (or a kill) would otherwise leave the benchmark's servers, simulators and databases behind.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      report(`${signal}: cleaning up`);
      void runAll().finally(() => process.exit(130));
    });
  }
  return {
    push: (fn) => void stack.push(fn),
    hooks: { after: (fn) => void stack.push(fn) },
    runAll,
  };
}

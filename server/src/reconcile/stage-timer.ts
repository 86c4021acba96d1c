// Where a reconcile spends its time: each mark charges the time since the previous one to a stage.
// The durations go to the debug log and the outcome (the benchmark prints them).

export interface StageTimer {
  /** Milliseconds per stage, in the order stages first ran. */
  readonly ms: Record<string, number>;
  /** Charges the time since the previous mark (or the start) to `stage`. */
  mark(stage: string): void;
  /** Records durations measured elsewhere (`prefix:name`) and restarts the clock. */
  merge(prefix: string, durations: Record<string, number>): void;
}

export function createStageTimer(): StageTimer {
  const ms: Record<string, number> = {};
  let last = performance.now();
  const add = (stage: string, spent: number) => {
    ms[stage] = Math.round(((ms[stage] ?? 0) + spent) * 10) / 10;
  };
  return {
    ms,
    mark(stage) {
      const now = performance.now();
      add(stage, now - last);
      last = now;
    },
    merge(prefix, durations) {
      for (const [name, spent] of Object.entries(durations)) add(`${prefix}:${name}`, spent);
      last = performance.now();
    },
  };
}

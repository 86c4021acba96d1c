// The fleet aggregates join every agent to its latest report, document and drift: PostgreSQL's cost
// estimate crosses jit_above_cost even for a handful of rows, and compiling the plan then takes 1–2 s
// on every call while running it takes milliseconds. These queries run with JIT off.
import type postgres from 'postgres';

export function withoutJit<T>(sql: postgres.Sql, query: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  return sql.begin(async (tx) => {
    await tx`set local jit = off`;
    // The queries only read and never open transactions of their own.
    return query(tx as unknown as postgres.Sql);
  }) as Promise<T>;
}

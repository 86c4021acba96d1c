// Runs work while holding a transaction-level advisory lock on its own pool connection, so that the
// same work on other instances waits for it. The work itself uses other connections (it may open
// transactions of its own), so this needs a pool of two or more: not the embedded database's one.
import type postgres from 'postgres';

/**
 * Runs `work` under the lock `key`. When the lock cannot be taken (the database is unreachable), the
 * work runs anyway: it meets the same database and reports the failure in its own terms. When only
 * releasing fails (the connection dropped after the work finished), the work's result stands; the
 * lock went with the connection.
 */
export async function whileLocked<T>(sql: postgres.Sql, key: number, work: () => Promise<T>): Promise<T> {
  let started = false;
  let result: { value: T } | undefined;
  try {
    await sql.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(${key})`;
      started = true;
      result = { value: await work() };
    });
  } catch (error) {
    if (result) return result.value;
    if (started) throw error;
    return work();
  }
  return result!.value;
}

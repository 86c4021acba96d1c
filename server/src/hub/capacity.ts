// How many agent sockets one process may hold. Each socket is a file descriptor; past the process's
// open-file limit new connections are reset with nothing logged, and git (packed-refs) and the
// database pool fail with EMFILE in places that do not say so. So the hub stops accepting agents
// before that, leaving a reserve for everything else the server opens.

/** The soft "Max open files" from /proc/self/limits; undefined when unknown or unlimited. */
export function parseOpenFileLimit(limitsText: string): number | undefined {
  const line = limitsText.split('\n').find((l) => l.startsWith('Max open files'));
  const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
  const value = Number(soft);
  return soft && Number.isSafeInteger(value) && value > 0 ? value : undefined;
}

/** Descriptors kept for git, the database pool, logs, console sessions and admin requests. */
export function reservedDescriptors(openFileLimit: number): number {
  return Math.max(256, Math.ceil(openFileLimit * 0.05));
}

/** The socket capacity: the configured maximum if any, else the open-file limit less the reserve. */
export function agentSocketCapacity(openFileLimit: number | undefined, configuredMax?: number): number {
  if (configuredMax !== undefined) return configuredMax;
  if (openFileLimit === undefined) return Number.POSITIVE_INFINITY;
  return Math.max(0, openFileLimit - reservedDescriptors(openFileLimit));
}

/** The capacity for this process: reads its open-file limit where the OS says it (Linux). */
export async function readAgentSocketCapacity(configuredMax?: number): Promise<{ capacity: number; openFileLimit?: number }> {
  const { readFile } = await import('node:fs/promises');
  const openFileLimit = await readFile('/proc/self/limits', 'utf8').then(parseOpenFileLimit, () => undefined);
  return { capacity: agentSocketCapacity(openFileLimit, configuredMax), openFileLimit };
}

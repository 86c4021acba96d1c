// Many small calls made close together, run as one: what every agent does on connect (claim its
// socket, look for on-demand runs waiting for it) is one statement per agent, and a fleet coming back
// after a restart connects thousands of agents a second. Calls made within `windowMs` of the first,
// up to `maxSize`, become one call of `run`, whose results are handed back in the calls' order.

export interface BatchOptions {
  windowMs: number;
  maxSize: number;
}

/** For what every agent does on connect (socket claims, waiting runs; heartbeats wait longer): 10
 * ms is nothing beside a request, and 500 keeps a statement's arrays small. A steady fleet makes a few
 * per batch; one coming back after a restart, hundreds. */
export const AGENT_CALL_BATCH: BatchOptions = { windowMs: 10, maxSize: 500 };

export function batched<I, O>(run: (inputs: I[]) => Promise<O[]>, options: BatchOptions): (input: I) => Promise<O> {
  let pending: { input: I; resolve: (output: O) => void; reject: (error: unknown) => void }[] = [];
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    const batch = pending;
    pending = [];
    run(batch.map((call) => call.input)).then(
      (outputs) => {
        if (outputs.length !== batch.length) throw new Error(`a batch of ${batch.length} got ${outputs.length} results`);
        batch.forEach((call, i) => call.resolve(outputs[i]));
      },
    ).catch((error: unknown) => batch.forEach((call) => call.reject(error)));
  };
  return (input) => new Promise<O>((resolve, reject) => {
    pending.push({ input, resolve, reject });
    if (pending.length >= options.maxSize) flush();
    else timer ??= setTimeout(flush, options.windowMs);
  });
}

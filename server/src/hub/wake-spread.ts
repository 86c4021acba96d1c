// How long a signal asks its agents to spread their answers over. Each woken agent polls its
// desired state and reports, so a signal to a whole fleet is that many requests at once: at 30,000
// agents on two instances (bench:fleet) their polls, served first, held up the reading of the rest of
// the signal itself, and the reports after them kept the servers and PostgreSQL busy for tens of
// seconds. An instance that wakes more agents than it serves in a second asks them to draw their start
// at random over woken / rate seconds (Puppet's splay, Salt's batch): the wake-ups themselves are
// still delivered at once, a location's few dozen agents answer at once, and the whole fleet comes in
// at about `rate` a second per instance.

/** Agents an instance wakes at once by default; more are spread at this rate a second. */
export const DEFAULT_WAKE_RATE = 1000;

/** Milliseconds over which `woken` agents spread their answers: 0 when the instance serves them all
 * within a second (or `ratePerSecond` is 0: no spreading). */
export function wakeSpreadMs(woken: number, ratePerSecond: number): number {
  if (ratePerSecond <= 0 || woken <= ratePerSecond) return 0;
  return Math.round((woken / ratePerSecond) * 1000);
}

// Strict 5-field cron (minute hour day-of-month month day-of-week) with Vixie cron semantics,
// used by the validator (BAD_CRON) and by the agent for `run: schedule` scripts (local time).

export interface Cron {
  minutes: ReadonlySet<number>;
  hours: ReadonlySet<number>;
  daysOfMonth: ReadonlySet<number>;
  months: ReadonlySet<number>; // 1-12
  daysOfWeek: ReadonlySet<number>; // 0-6, Sunday = 0
  /** Vixie cron: when both day fields are restricted (neither starts with `*`), a day matches
   * if EITHER matches; otherwise both must (the `*` one always does). */
  dayOfMonthStar: boolean;
  dayOfWeekStar: boolean;
  /** The hour field starts with `*`: such a schedule also runs in an hour a fall-back repeats. */
  hourStar: boolean;
}

export type CronParseResult = { ok: true; cron: Cron } | { ok: false; field: string; message: string };

interface FieldRule {
  name: string;
  min: number;
  max: number;
  names?: readonly string[]; // index + min = value
}

const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

const FIELDS: readonly FieldRule[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTH_NAMES },
  { name: 'day-of-week', min: 0, max: 7, names: DAY_NAMES }, // 7 is Sunday too
];

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]; // February as in a leap year

class FieldError extends Error {}

export function parseCron(expression: string): CronParseResult {
  const parts = expression.trim().split(/\s+/).filter(Boolean);
  if (parts.length !== 5) {
    return { ok: false, field: 'expression', message: `expected 5 fields (minute hour day-of-month month day-of-week), got ${parts.length}` };
  }
  const values: Set<number>[] = [];
  for (let i = 0; i < FIELDS.length; i++) {
    try {
      values.push(parseField(parts[i], FIELDS[i]));
    } catch (error) {
      if (!(error instanceof FieldError)) throw error;
      return { ok: false, field: FIELDS[i].name, message: `${FIELDS[i].name} field "${parts[i]}": ${error.message}` };
    }
  }
  const [minutes, hours, daysOfMonth, months, weekDays] = values;
  const daysOfWeek = new Set([...weekDays].map((day) => day % 7));
  const cron: Cron = { minutes, hours, daysOfMonth, months, daysOfWeek, dayOfMonthStar: parts[2].startsWith('*'), dayOfWeekStar: parts[4].startsWith('*'), hourStar: parts[1].startsWith('*') };
  // `0 0 30 2 *` is accepted by Vixie cron and never runs; an admin wants to hear about that.
  if (cron.dayOfWeekStar && ![...months].some((month) => [...daysOfMonth].some((day) => day <= DAYS_IN_MONTH[month - 1]))) {
    return { ok: false, field: 'day-of-month', message: `day-of-month field "${parts[2]}": no such day in month field "${parts[3]}", so the schedule never runs` };
  }
  return { ok: true, cron };
}

function parseField(text: string, rule: FieldRule): Set<number> {
  const result = new Set<number>();
  for (const item of text.split(',')) {
    if (item === '') throw new FieldError('empty list item');
    const [range, stepText, extra] = item.split('/');
    if (extra !== undefined) throw new FieldError(`"${item}" has more than one "/"`);
    const step = stepText === undefined ? 1 : parseNumber(stepText, 'step');
    if (step < 1) throw new FieldError(`step must be at least 1, got ${stepText}`);
    let low: number;
    let high: number;
    if (range === '*') {
      [low, high] = [rule.min, rule.max];
    } else if (range.includes('-')) {
      const [lowText, highText, rest] = range.split('-');
      if (rest !== undefined) throw new FieldError(`"${range}" is not a range`);
      [low, high] = [parseValue(lowText, rule), parseValue(highText, rule)];
      if (low > high) throw new FieldError(`range ${range} runs backwards`);
    } else {
      low = parseValue(range, rule);
      // Vixie: "5/15" means "5-max/15"
      high = stepText === undefined ? low : rule.max;
    }
    for (let value = low; value <= high; value += step) result.add(value);
  }
  return result;
}

function parseValue(text: string, rule: FieldRule): number {
  const byName = rule.names?.indexOf(text.toUpperCase()) ?? -1;
  const value = byName >= 0 ? byName + (rule.name === 'month' ? 1 : 0) : parseNumber(text, 'value', rule);
  if (value < rule.min || value > rule.max) throw new FieldError(`${value} is out of range ${rule.min}-${rule.max}`);
  return value;
}

function parseNumber(text: string, what: string, rule?: FieldRule): number {
  if (!/^\d+$/.test(text)) {
    const names = rule?.names ? ` or a name (${rule.names.join(' ')})` : '';
    throw new FieldError(`${what} "${text}" is not a number${names}`);
  }
  return Number(text);
}

// Local time has holes and repeats: a spring-forward skips an hour of wall-clock times and a
// fall-back shows one twice. The search below walks wall-clock fields (carried in a UTC Date, where
// no hour is skipped or repeated) and only then turns a matching wall-clock time into an instant,
// with Vixie cron's rules for the two transitions: a time the clock skipped runs when the clock
// resumes (02:30 on a spring-forward night runs at 03:00), and a time shown twice runs once, the
// first time, unless the schedule runs every hour (hour field `*`), which then also runs in the
// repeated hour.

const MINUTE_MS = 60_000;
/** Larger than any difference between two UTC offsets of one zone around a transition. */
const MAX_SHIFT_MS = 2 * 3_600_000;

/** Does the wall-clock day fall on a day the schedule runs? */
function dayMatches(cron: Cron, wall: Date): boolean {
  const byMonthDay = cron.daysOfMonth.has(wall.getUTCDate());
  const byWeekDay = cron.daysOfWeek.has(wall.getUTCDay());
  if (!cron.dayOfMonthStar && !cron.dayOfWeekStar) return byMonthDay || byWeekDay;
  return byMonthDay && byWeekDay;
}

/** The local wall-clock time of `instant` to the minute, carried in a UTC Date. */
function wallOf(instant: Date): Date {
  return new Date(Date.UTC(instant.getFullYear(), instant.getMonth(), instant.getDate(), instant.getHours(), instant.getMinutes()));
}

/** No UTC offset change within MAX_SHIFT_MS either side of `instant` (the common case: the
 * search can then take the first match). */
function steadyAround(instant: number): boolean {
  return new Date(instant - MAX_SHIFT_MS).getTimezoneOffset() === new Date(instant + MAX_SHIFT_MS).getTimezoneOffset();
}

/** The instants (0, 1 or 2) at which the local clock shows `wall`, earliest first. */
function instantsOf(wall: Date): Date[] {
  const guess = new Date(wall.getUTCFullYear(), wall.getUTCMonth(), wall.getUTCDate(), wall.getUTCHours(), wall.getUTCMinutes()).getTime();
  if (steadyAround(guess)) return [new Date(guess)];
  const found = new Set<number>();
  for (let shift = -MAX_SHIFT_MS; shift <= MAX_SHIFT_MS; shift += 15 * MINUTE_MS) {
    const candidate = new Date(guess + shift);
    if (wallOf(candidate).getTime() === wall.getTime()) found.add(candidate.getTime());
  }
  return [...found].sort((a, b) => a - b).map((t) => new Date(t));
}

/** For a wall-clock time the clock skipped: the instant the clock resumed (first shown time after). */
function resumeAfterGap(wall: Date): Date {
  let instant = new Date(wall.getUTCFullYear(), wall.getUTCMonth(), wall.getUTCDate(), wall.getUTCHours(), wall.getUTCMinutes()).getTime();
  for (let step = 0; step < 180 && wallOf(new Date(instant - MINUTE_MS)).getTime() > wall.getTime(); step++) instant -= MINUTE_MS;
  return new Date(instant);
}

/** The first wall-clock minute strictly after `wall` that the schedule matches. */
function nextWallTime(cron: Cron, wall: Date, limit: Date): Date {
  const time = new Date(wall.getTime() + MINUTE_MS);
  while (time < limit) {
    if (!cron.months.has(time.getUTCMonth() + 1)) {
      time.setUTCMonth(time.getUTCMonth() + 1, 1);
      time.setUTCHours(0, 0, 0, 0);
    } else if (!dayMatches(cron, time)) {
      time.setUTCDate(time.getUTCDate() + 1);
      time.setUTCHours(0, 0, 0, 0);
    } else if (!cron.hours.has(time.getUTCHours())) {
      time.setUTCHours(time.getUTCHours() + 1, 0, 0, 0);
    } else if (!cron.minutes.has(time.getUTCMinutes())) {
      time.setUTCMinutes(time.getUTCMinutes() + 1, 0, 0);
    } else {
      return time;
    }
  }
  throw new Error('the cron schedule never runs');
}

/** The first minute strictly after `after` at which the schedule runs, in the local time zone
 * (process.env.TZ, else the system's), daylight-saving transitions included. */
export function nextCronTime(cron: Cron, after: Date): Date {
  // A valid schedule runs within 8 years (Feb 29 can skip a century year); bound the search anyway.
  const limit = new Date(wallOf(after).getTime());
  limit.setUTCFullYear(limit.getUTCFullYear() + 9);
  // near a transition start a little before: a repeated hour's second pass can follow `after` with
  // earlier wall times
  const steady = steadyAround(after.getTime());
  let wall = new Date(wallOf(after).getTime() - (steady ? 0 : MAX_SHIFT_MS));
  let best: Date | undefined;
  let bestWall = 0;
  for (;;) {
    try {
      wall = nextWallTime(cron, wall, limit);
    } catch (error) {
      if (best) return best;
      throw error;
    }
    // any instant of a wall time this far past the best one's is later than the best
    if (best && wall.getTime() > bestWall + MAX_SHIFT_MS) return best;
    const instants = instantsOf(wall);
    const runs = instants.length === 0 ? [resumeAfterGap(wall)] : instants.length > 1 && !cron.hourStar ? [instants[0]] : instants;
    const first = runs.find((instant) => instant.getTime() > after.getTime());
    if (first && (!best || first < best)) {
      // away from transitions wall time and instants run in step: the first match is the answer
      if (steadyAround(first.getTime())) return first;
      best = first;
      bestWall = wall.getTime();
    }
  }
}

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
  const cron: Cron = { minutes, hours, daysOfMonth, months, daysOfWeek, dayOfMonthStar: parts[2].startsWith('*'), dayOfWeekStar: parts[4].startsWith('*') };
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

/** Does `date` (local time) fall on a day the schedule runs? */
function dayMatches(cron: Cron, date: Date): boolean {
  const byMonthDay = cron.daysOfMonth.has(date.getDate());
  const byWeekDay = cron.daysOfWeek.has(date.getDay());
  if (!cron.dayOfMonthStar && !cron.dayOfWeekStar) return byMonthDay || byWeekDay;
  return byMonthDay && byWeekDay;
}

/** The first minute strictly after `after` (local time) at which the schedule runs. */
export function nextCronTime(cron: Cron, after: Date): Date {
  const time = new Date(after.getTime());
  time.setSeconds(0, 0);
  time.setMinutes(time.getMinutes() + 1);
  // A valid schedule runs within 8 years (Feb 29 can skip a century year); bound the search anyway.
  const limit = new Date(after.getTime());
  limit.setFullYear(limit.getFullYear() + 9);
  while (time < limit) {
    if (!cron.months.has(time.getMonth() + 1)) {
      time.setMonth(time.getMonth() + 1, 1);
      time.setHours(0, 0, 0, 0);
    } else if (!dayMatches(cron, time)) {
      time.setDate(time.getDate() + 1);
      time.setHours(0, 0, 0, 0);
    } else if (!cron.hours.has(time.getHours())) {
      time.setHours(time.getHours() + 1, 0, 0, 0);
    } else if (!cron.minutes.has(time.getMinutes())) {
      time.setMinutes(time.getMinutes() + 1, 0, 0);
    } else {
      return time;
    }
  }
  throw new Error('the cron schedule never runs');
}

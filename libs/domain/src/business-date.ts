/**
 * Business dates are `YYYY-MM-DD` strings in Asia/Shanghai (UTC+8, no DST since 1991).
 * They are compared as strings and never turned into `Date` objects across zones.
 * This module is the one place that converts an instant into a business date.
 */
export type BusinessDate = string;

const SHANGHAI_OFFSET_MS = 8 * 3600 * 1000;
const DAY_MS = 86_400_000;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The calendar date in Asia/Shanghai of an instant (epoch ms). */
export function businessDateOf(epochMs: number): BusinessDate {
  const day = Math.floor((epochMs + SHANGHAI_OFFSET_MS) / DAY_MS);
  let date = DATE_NAMES.get(day);
  if (date === undefined) {
    date = new Date(day * DAY_MS).toISOString().slice(0, 10);
    if (DATE_NAMES.size < 200_000) DATE_NAMES.set(day, date);
  }
  return date;
}

/** Formatted dates by day number: projections format the same few thousand days millions of times. */
const DATE_NAMES = new Map<number, string>();

/** Today in Asia/Shanghai for a clock reading (the clock is passed in, never read here). */
export function todayInShanghai(nowMs: number): BusinessDate {
  return businessDateOf(nowMs);
}

export function isBusinessDate(s: unknown): s is BusinessDate {
  if (typeof s !== 'string') return false;
  const m = DATE_RE.exec(s);
  if (!m) return false;
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
  return d.toISOString().slice(0, 10) === s;
}

/** Day number since 1970-01-01 (for arithmetic only). */
export function dayNumber(date: BusinessDate): number {
  let n = DAY_NUMBERS.get(date);
  if (n === undefined) {
    n = Math.round(Date.parse(`${date}T00:00:00Z`) / DAY_MS);
    if (DAY_NUMBERS.size < 200_000 && Number.isFinite(n)) DAY_NUMBERS.set(date, n);
  }
  return n;
}

/** Day numbers by date: the rules do date arithmetic on the same few thousand days too. */
const DAY_NUMBERS = new Map<BusinessDate, number>();

export function fromDayNumber(n: number): BusinessDate {
  let date = DATE_NAMES.get(n);
  if (date === undefined) {
    date = new Date(n * DAY_MS).toISOString().slice(0, 10);
    if (DATE_NAMES.size < 200_000) DATE_NAMES.set(n, date);
  }
  return date;
}

export function addDays(date: BusinessDate, n: number): BusinessDate {
  return fromDayNumber(dayNumber(date) + n);
}

/** Calendar days from `a` to `b` (b - a). */
export function daysBetween(a: BusinessDate, b: BusinessDate): number {
  return dayNumber(b) - dayNumber(a);
}

/** ISO weekday: 1 = Monday … 7 = Sunday. */
export function isoWeekday(date: BusinessDate): number {
  const d = new Date(`${date}T00:00:00Z`).getUTCDay();
  return d === 0 ? 7 : d;
}

export function yearOf(date: BusinessDate): number {
  return Number(date.slice(0, 4));
}

export function maxDate(a: BusinessDate, b: BusinessDate): BusinessDate {
  return a > b ? a : b;
}

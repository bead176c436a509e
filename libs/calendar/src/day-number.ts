/**
 * Fast, allocation-free `YYYY-MM-DD` ⇄ day-number arithmetic for the calendar hot path
 * (day 0 = 1970-01-01). The calendar depends on nothing internal, so it carries its own.
 * Algorithms: H. Hinnant, "chrono-compatible low-level date algorithms".
 */

export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function civilFromDays(dn: number): [number, number, number] {
  const z = dn + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function digit(s: string, i: number): number {
  const c = s.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : NaN;
}

/** Day number of a valid `YYYY-MM-DD` date, or null when the string is not one. */
export function parseDayNumber(s: unknown): number | null {
  if (typeof s !== 'string' || s.length !== 10 || s[4] !== '-' || s[7] !== '-') return null;
  const y = digit(s, 0) * 1000 + digit(s, 1) * 100 + digit(s, 2) * 10 + digit(s, 3);
  const m = digit(s, 5) * 10 + digit(s, 6);
  const d = digit(s, 8) * 10 + digit(s, 9);
  if (Number.isNaN(y + m + d) || m < 1 || m > 12 || d < 1) return null;
  const max = m === 2 && isLeap(y) ? 29 : MONTH_DAYS[m - 1];
  if (d > max) return null;
  return daysFromCivil(y, m, d);
}

/** Day number of a `YYYY-MM-DD` date; throws RangeError on anything else (a caller bug). */
export function toDayNumber(s: string): number {
  const dn = parseDayNumber(s);
  if (dn === null) throw new RangeError(`not a YYYY-MM-DD date: ${String(s)}`);
  return dn;
}

const pad2 = (n: number) => (n < 10 ? `0${n}` : `${n}`);

export function formatDayNumber(dn: number): string {
  const [y, m, d] = civilFromDays(dn);
  return `${String(y).padStart(4, '0')}-${pad2(m)}-${pad2(d)}`;
}

export function yearOfDayNumber(dn: number): number {
  return civilFromDays(dn)[0];
}

/** ISO weekday: 1 = Monday … 7 = Sunday (1970-01-01, day 0, was a Thursday). */
export function isoWeekdayOf(dn: number): number {
  return ((((dn + 3) % 7) + 7) % 7) + 1;
}

export function isWeekendDay(dn: number): boolean {
  return isoWeekdayOf(dn) >= 6;
}

/**
 * A prefix count of Monday–Friday days: `weekdayPrefix(b) - weekdayPrefix(a)` is the number of
 * weekdays d with a < d <= b, for any integers (closed form, used outside the precomputed table).
 */
export function weekdayPrefix(dn: number): number {
  const e = dn - 4; // 1970-01-05 (day 4) was a Monday
  const q = Math.floor((e + 1) / 7);
  const r = e + 1 - q * 7;
  return 5 * q + Math.min(r, 5);
}

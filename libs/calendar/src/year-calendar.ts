import { isWeekendDay, parseDayNumber } from './day-number';

/**
 * One year of the State Council holiday notice (国务院办公厅关于节假日安排的通知).
 * A date is a working day if it is a make-up working day (调休上班); else not if it is a rest
 * day; else Monday–Friday.
 */
export interface YearCalendar {
  year: number;
  /** days off on the notice, weekdays or weekends (`YYYY-MM-DD`, all in `year`) */
  restDays: string[];
  /** make-up working days (调休上班): always a Saturday or Sunday */
  workingDays: string[];
  /** where the data comes from (notice number, package and version, uploader) */
  source: string;
}

/** Years the calendar can hold (the precomputed table spans them). */
export const CALENDAR_MIN_YEAR = 1900;
export const CALENDAR_MAX_YEAR = 2299;

export interface CalendarFieldError {
  path: string;
  message: string;
}

export type ValidationResult<T> =
  { ok: true; value: T } | { ok: false; errors: CalendarFieldError[] };

const ALLOWED_KEYS = new Set(['restDays', 'workingDays', 'source']);
const MAX_SOURCE_LENGTH = 500;

/**
 * Validates the body of `PUT /v1/admin/calendar/{year}`:
 * `{ restDays: string[], workingDays: string[], source?: string }`.
 * Every date is a valid `YYYY-MM-DD` in `year`; no duplicates; no date in both lists; a make-up
 * working day must fall on a Saturday or Sunday. Unknown fields are rejected. On success the
 * lists come back sorted.
 */
export function validateYearCalendar(input: unknown, year: number): ValidationResult<YearCalendar> {
  const errors: CalendarFieldError[] = [];
  if (!Number.isInteger(year) || year < CALENDAR_MIN_YEAR || year > CALENDAR_MAX_YEAR) {
    errors.push({
      path: 'year',
      message: `year must be an integer between ${CALENDAR_MIN_YEAR} and ${CALENDAR_MAX_YEAR}`,
    });
    return { ok: false, errors };
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, errors: [{ path: '', message: 'body must be an object' }] };
  }
  const body = input as Record<string, unknown>;
  for (const k of Object.keys(body)) {
    if (!ALLOWED_KEYS.has(k)) errors.push({ path: k, message: 'unknown field' });
  }
  const seen = new Map<string, string>();
  const list = (field: 'restDays' | 'workingDays'): string[] => {
    const v = body[field];
    if (!Array.isArray(v)) {
      errors.push({ path: field, message: 'must be an array of YYYY-MM-DD dates' });
      return [];
    }
    const out: string[] = [];
    v.forEach((d, i) => {
      const path = `${field}.${i}`;
      const dn = parseDayNumber(d);
      if (dn === null) {
        errors.push({ path, message: 'must be a valid YYYY-MM-DD date' });
        return;
      }
      const date = d as string;
      if (Number(date.slice(0, 4)) !== year) {
        errors.push({ path, message: `${date} is not in ${year}` });
        return;
      }
      const other = seen.get(date);
      if (other === field) {
        errors.push({ path, message: `${date} is listed twice` });
        return;
      }
      if (other !== undefined) {
        errors.push({ path, message: `${date} is both a rest day and a make-up working day` });
        return;
      }
      if (field === 'workingDays' && !isWeekendDay(dn)) {
        errors.push({
          path,
          message: `${date} is a weekday: a make-up working day (调休上班) must be a Saturday or Sunday`,
        });
        return;
      }
      seen.set(date, field);
      out.push(date);
    });
    return out.sort();
  };
  const restDays = list('restDays');
  const workingDays = list('workingDays');
  let source = `admin upload ${year}`;
  if (body.source !== undefined) {
    if (
      typeof body.source !== 'string' ||
      body.source.trim() === '' ||
      body.source.length > MAX_SOURCE_LENGTH
    ) {
      errors.push({
        path: 'source',
        message: `must be a non-empty string of at most ${MAX_SOURCE_LENGTH} characters`,
      });
    } else {
      source = body.source;
    }
  }
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, value: { year, restDays, workingDays, source } };
}

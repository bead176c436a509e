import {
  daysFromCivil,
  formatDayNumber,
  isWeekendDay,
  toDayNumber,
  weekdayPrefix,
} from './day-number';
import {
  CALENDAR_MAX_YEAR,
  CALENDAR_MIN_YEAR,
  validateYearCalendar,
  type YearCalendar,
} from './year-calendar';

/** A computed working day, `provisional` when it depended on a year with no official notice. */
export interface WorkingDayResult {
  date: string;
  provisional: boolean;
}

/**
 * The working-day calendar port. Structurally identical to `WorkCalendar` in `@app/domain`
 * (the domain defines the port; this library implements it without importing it).
 */
export interface WorkingDayCalendar {
  isWorkingDay(date: string): boolean;
  /** the N-th working day strictly after `date` (N >= 1) */
  addWorkingDays(date: string, n: number): WorkingDayResult;
  /** `date` if it is a working day, else the first working day after it */
  nextWorkingDayOnOrAfter(date: string): WorkingDayResult;
  /** number of working days d with from < d <= to (0 if to <= from) */
  workingDaysBetween(from: string, to: string): number;
  /** 'official' when the year's State Council notice is loaded, else 'provisional' */
  coverage(year: number): 'official' | 'provisional';
}

const TABLE_START = daysFromCivil(CALENDAR_MIN_YEAR, 1, 1);
const TABLE_END = daysFromCivil(CALENDAR_MAX_YEAR, 12, 31);
const TABLE_SIZE = TABLE_END - TABLE_START + 1;

/**
 * The official calendar: State Council notices for the years it holds, Monday–Friday
 * (weekends only) elsewhere, and every answer that touched a year without a notice is
 * `provisional`. Precomputed once over 1900–2299, so every query is O(1):
 * - `working[i]`: is day TABLE_START+i a working day;
 * - `cum[i]`: working days in [TABLE_START, TABLE_START+i];
 * - `nth[k]`: the offset of the (k+1)-th working day of the table;
 * - `uncovered[i]`: days in [TABLE_START, TABLE_START+i] whose year has no notice.
 * Dates outside the table (absurd inputs) fall back to weekends-only arithmetic, provisional.
 */
export class OfficialCalendar implements WorkingDayCalendar {
  private readonly byYear: ReadonlyMap<number, YearCalendar>;
  private readonly working = new Uint8Array(TABLE_SIZE);
  private readonly cum = new Int32Array(TABLE_SIZE);
  private readonly uncovered = new Int32Array(TABLE_SIZE);
  private readonly nth: Int32Array;
  /** formatted dates, filled on first use (results repeat a lot) */
  private readonly names: (string | undefined)[] = [];

  /** Later entries win over earlier ones for the same year. Throws on invalid year data. */
  constructor(years: readonly YearCalendar[]) {
    const byYear = new Map<number, YearCalendar>();
    for (const y of years) {
      const checked = validateYearCalendar(
        { restDays: y.restDays, workingDays: y.workingDays, source: y.source },
        y.year,
      );
      if (!checked.ok) {
        const detail = checked.errors.map((e) => `${e.path}: ${e.message}`).join('; ');
        throw new Error(`invalid calendar for ${y.year} (${y.source}): ${detail}`);
      }
      byYear.set(y.year, checked.value);
    }
    this.byYear = byYear;

    for (let i = 0; i < TABLE_SIZE; i++) this.working[i] = isWeekendDay(TABLE_START + i) ? 0 : 1;
    for (const y of byYear.values()) {
      for (const d of y.restDays) this.working[toDayNumber(d) - TABLE_START] = 0;
      for (const d of y.workingDays) this.working[toDayNumber(d) - TABLE_START] = 1;
    }
    let count = 0;
    for (let i = 0; i < TABLE_SIZE; i++) {
      count += this.working[i];
      this.cum[i] = count;
    }
    this.nth = new Int32Array(count);
    for (let i = 0, k = 0; i < TABLE_SIZE; i++) if (this.working[i] === 1) this.nth[k++] = i;

    let unc = 0;
    for (let y = CALENDAR_MIN_YEAR, i = 0; y <= CALENDAR_MAX_YEAR; y++) {
      const yearEnd = daysFromCivil(y, 12, 31) - TABLE_START;
      const inc = byYear.has(y) ? 0 : 1;
      for (; i <= yearEnd; i++) {
        unc += inc;
        this.uncovered[i] = unc;
      }
    }
  }

  coverage(year: number): 'official' | 'provisional' {
    return this.byYear.has(year) ? 'official' : 'provisional';
  }

  /** The years with an official notice, ascending. */
  coveredYears(): number[] {
    return [...this.byYear.keys()].sort((a, b) => a - b);
  }

  /** The notice data in force for `year` (after overrides), if any. */
  yearCalendar(year: number): YearCalendar | undefined {
    const y = this.byYear.get(year);
    return y && { ...y, restDays: [...y.restDays], workingDays: [...y.workingDays] };
  }

  isWorkingDay(date: string): boolean {
    return this.isWorkingDn(toDayNumber(date));
  }

  addWorkingDays(date: string, n: number): WorkingDayResult {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be an integer >= 1, got ${n}`);
    const a = toDayNumber(date);
    const i = a - TABLE_START;
    if (i >= 0 && i < TABLE_SIZE) {
      const k = this.cum[i] + n - 1;
      if (k < this.nth.length) {
        const r = this.nth[k] + TABLE_START;
        return { date: this.format(r), provisional: this.touchesUncovered(a + 1, r) };
      }
    }
    let d = a;
    for (let left = n; left > 0;) if (this.isWorkingDn(++d)) left--;
    return { date: this.format(d), provisional: this.touchesUncovered(a + 1, d) };
  }

  nextWorkingDayOnOrAfter(date: string): WorkingDayResult {
    const a = toDayNumber(date);
    if (this.isWorkingDn(a)) {
      return { date: this.format(a), provisional: this.touchesUncovered(a, a) };
    }
    const next = this.addWorkingDays(date, 1);
    return { date: next.date, provisional: this.touchesUncovered(a, toDayNumber(next.date)) };
  }

  workingDaysBetween(from: string, to: string): number {
    const a = toDayNumber(from);
    const b = toDayNumber(to);
    if (b <= a) return 0;
    return this.prefix(b) - this.prefix(a);
  }

  private format(dn: number): string {
    const i = dn - TABLE_START;
    if (i < 0 || i >= TABLE_SIZE) return formatDayNumber(dn);
    return (this.names[i] ??= formatDayNumber(dn));
  }

  private isWorkingDn(dn: number): boolean {
    const i = dn - TABLE_START;
    return i >= 0 && i < TABLE_SIZE ? this.working[i] === 1 : !isWeekendDay(dn);
  }

  /** A prefix count of working days over all integers: prefix(b) - prefix(a) counts (a, b]. */
  private prefix(dn: number): number {
    if (dn < TABLE_START) return weekdayPrefix(dn) - weekdayPrefix(TABLE_START - 1);
    if (dn > TABLE_END)
      return this.cum[TABLE_SIZE - 1] + weekdayPrefix(dn) - weekdayPrefix(TABLE_END);
    return this.cum[dn - TABLE_START];
  }

  /** Did any day in [a, b] fall in a year without an official notice? */
  private touchesUncovered(a: number, b: number): boolean {
    if (a < TABLE_START || b > TABLE_END) return true;
    const before = a === TABLE_START ? 0 : this.uncovered[a - 1 - TABLE_START];
    return this.uncovered[b - TABLE_START] - before > 0;
  }
}

/** Builds a calendar; later entries win for the same year (DB uploads override the package). */
export function createCalendar(years: readonly YearCalendar[]): OfficialCalendar {
  return new OfficialCalendar(years);
}

import type { BusinessDate } from './business-date';

/** A date computed on the working-day calendar. */
export interface CalendarResult {
  date: BusinessDate;
  /** the computation touched a year whose official notice is not loaded (weekends only) */
  provisional: boolean;
}

/**
 * The working-day calendar port (implemented by `@app/calendar`, structurally). Working days
 * follow the State Council holiday notices, make-up weekend working days (调休上班) included;
 * a year without a loaded notice is counted on weekends only and every answer that touched it
 * is `provisional`. Dates are business dates `YYYY-MM-DD`.
 */
export interface WorkCalendar {
  isWorkingDay(date: BusinessDate): boolean;
  /** the N-th working day strictly after `date` (N >= 1) */
  addWorkingDays(date: BusinessDate, n: number): CalendarResult;
  /** `date` if it is a working day, else the first working day after it */
  nextWorkingDayOnOrAfter(date: BusinessDate): CalendarResult;
  /** number of working days d with from < d <= to (0 if to <= from) */
  workingDaysBetween(from: BusinessDate, to: BusinessDate): number;
  /** 'official' when the year's State Council notice is loaded, else 'provisional' */
  coverage(year: number): 'official' | 'provisional';
}

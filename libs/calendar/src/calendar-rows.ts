import { daysFromCivil, formatDayNumber } from './day-number';
import type { WorkingDayCalendar } from './official-calendar';

export interface CalendarRow {
  date: string;
  isWorking: boolean;
  /** working days from the start of the range up to and including `date` */
  workingIndex: number;
  /** the year has no official notice: computed on weekends only */
  provisional: boolean;
}

/**
 * One row per day of `fromYear`-01-01 … `toYear`-12-31, for a SQL calendar table. The running
 * `workingIndex` makes "working days d with a < d <= b" equal to idx(b) - idx(a), the same as
 * `WorkCalendar.workingDaysBetween(a, b)` for b > a.
 */
export function calendarRows(
  fromYear: number,
  toYear: number,
  cal: Pick<WorkingDayCalendar, 'isWorkingDay' | 'coverage'>,
): CalendarRow[] {
  if (!Number.isInteger(fromYear) || !Number.isInteger(toYear) || toYear < fromYear) {
    throw new RangeError(`bad year range ${fromYear}..${toYear}`);
  }
  const rows: CalendarRow[] = [];
  let index = 0;
  for (let year = fromYear; year <= toYear; year++) {
    const provisional = cal.coverage(year) === 'provisional';
    const last = daysFromCivil(year, 12, 31);
    for (let dn = daysFromCivil(year, 1, 1); dn <= last; dn++) {
      const date = formatDayNumber(dn);
      const isWorking = cal.isWorkingDay(date);
      if (isWorking) index++;
      rows.push({ date, isWorking, workingIndex: index, provisional });
    }
  }
  return rows;
}

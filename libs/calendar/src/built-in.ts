import chineseDays from 'chinese-days/dist/chinese-days.json';
import { version as chineseDaysVersion } from 'chinese-days/package.json';
import type { YearCalendar } from './year-calendar';

interface ChineseDaysData {
  /** rest days of the notices (weekdays and the weekends inside a holiday), date → label */
  holidays: Record<string, string>;
  /** make-up working days (调休上班), date → label */
  workdays: Record<string, string>;
}

let cache: readonly YearCalendar[] | undefined;

/**
 * The official years shipped with the `chinese-days` package (pinned; 2004–2026 in 1.5.7),
 * one entry per year the package really covers (a year with at least one rest day listed).
 * Load DB uploads after these so they win.
 */
export function builtInYears(): YearCalendar[] {
  cache ??= extract(chineseDays);
  return cache.map((y) => ({ ...y, restDays: [...y.restDays], workingDays: [...y.workingDays] }));
}

function extract(data: ChineseDaysData): YearCalendar[] {
  const years = new Map<number, { rest: string[]; work: string[] }>();
  const slot = (date: string) => {
    const y = Number(date.slice(0, 4));
    let s = years.get(y);
    if (!s) years.set(y, (s = { rest: [], work: [] }));
    return s;
  };
  for (const d of Object.keys(data.holidays)) slot(d).rest.push(d);
  for (const d of Object.keys(data.workdays)) slot(d).work.push(d);
  return [...years.entries()]
    .filter(([, s]) => s.rest.length > 0)
    .sort(([a], [b]) => a - b)
    .map(([year, s]) => ({
      year,
      restDays: s.rest.sort(),
      workingDays: s.work.sort(),
      source: `chinese-days@${chineseDaysVersion} (State Council holiday notice for ${year})`,
    }));
}

import fc from 'fast-check';
import {
  builtInYears,
  calendarRows,
  createCalendar,
  validateYearCalendar,
  type YearCalendar,
} from './index';
import { formatDayNumber, toDayNumber, weekdayPrefix, isoWeekdayOf } from './day-number';

const cal = createCalendar(builtInYears());

// SPEC §3 lists, the oracle for the package data.
const SPEC_MAKE_UP: Record<number, string[]> = {
  2021: ['02-07', '02-20', '04-25', '05-08', '09-18', '09-26', '10-09'],
  2025: ['01-26', '02-08', '04-27', '09-28', '10-11'],
  2026: ['01-04', '02-14', '02-28', '05-09', '09-20', '10-10'],
};
const range = (from: string, to: string) => {
  const out: string[] = [];
  for (let d = toDayNumber(from); d <= toDayNumber(to); d++) out.push(formatDayNumber(d));
  return out;
};
const SPEC_REST_2021 = [
  ...range('2021-01-01', '2021-01-03'),
  ...range('2021-02-11', '2021-02-17'),
  ...range('2021-04-03', '2021-04-05'),
  ...range('2021-05-01', '2021-05-05'),
  ...range('2021-06-12', '2021-06-14'),
  ...range('2021-09-19', '2021-09-21'),
  ...range('2021-10-01', '2021-10-07'),
];

describe('built-in official years (chinese-days)', () => {
  it('covers 2004–2026 and nothing else', () => {
    expect(builtInYears().map((y) => y.year)).toEqual(
      range('2004-01-01', '2026-01-01')
        .filter((d) => d.endsWith('-01-01'))
        .map((d) => Number(d.slice(0, 4))),
    );
    expect(cal.coverage(2003)).toBe('provisional');
    expect(cal.coverage(2004)).toBe('official');
    expect(cal.coverage(2026)).toBe('official');
    expect(cal.coverage(2027)).toBe('provisional');
  });

  it.each(Object.entries(SPEC_MAKE_UP))(
    'has exactly the SPEC make-up working days of %s',
    (year, days) => {
      const y = builtInYears().find((c) => c.year === Number(year))!;
      expect(y.workingDays).toEqual(days.map((d) => `${year}-${d}`));
      for (const d of y.workingDays) {
        expect(isoWeekdayOf(toDayNumber(d))).toBeGreaterThanOrEqual(6);
        expect(cal.isWorkingDay(d)).toBe(true);
      }
    },
  );

  it('has exactly the SPEC rest days of 2021, none of them working', () => {
    expect(builtInYears().find((c) => c.year === 2021)!.restDays).toEqual(SPEC_REST_2021);
    for (const d of SPEC_REST_2021) expect(cal.isWorkingDay(d)).toBe(false);
  });

  it('passes its own upload validation for every year', () => {
    for (const y of builtInYears()) expect(validateYearCalendar(y, y.year).ok).toBe(false); // has `year`: unknown field
    for (const { year, restDays, workingDays, source } of builtInYears()) {
      expect(validateYearCalendar({ restDays, workingDays, source }, year).ok).toBe(true);
    }
  });
});

describe('SPEC worked examples', () => {
  it('5 working days after 2021-09-28 is 2021-10-11', () => {
    expect(cal.addWorkingDays('2021-09-28', 5)).toEqual({ date: '2021-10-11', provisional: false });
  });
  it('7 working days after 2021-02-05 is 2021-02-20 (a make-up Saturday)', () => {
    expect(cal.addWorkingDays('2021-02-05', 7)).toEqual({ date: '2021-02-20', provisional: false });
  });
  it('the first working day on or after 2021-10-03 is 2021-10-08', () => {
    expect(cal.nextWorkingDayOnOrAfter('2021-10-03')).toEqual({
      date: '2021-10-08',
      provisional: false,
    });
    expect(cal.nextWorkingDayOnOrAfter('2021-10-08')).toEqual({
      date: '2021-10-08',
      provisional: false,
    });
    expect(cal.nextWorkingDayOnOrAfter('2021-10-09')).toEqual({
      date: '2021-10-09',
      provisional: false,
    });
  });
  it('counts working days between dates as from < d <= to', () => {
    expect(cal.workingDaysBetween('2021-10-11', '2021-10-20')).toBe(7);
    expect(cal.workingDaysBetween('2021-09-30', '2021-10-08')).toBe(1);
    expect(cal.workingDaysBetween('2021-10-08', '2021-10-08')).toBe(0);
    expect(cal.workingDaysBetween('2021-10-20', '2021-10-11')).toBe(0);
  });
});

describe('years without an official notice', () => {
  it('2099 is provisional and weekends-only', () => {
    expect(cal.coverage(2099)).toBe('provisional');
    expect(cal.isWorkingDay('2099-01-01')).toBe(true); // a Thursday: no holiday assumed
    expect(cal.isWorkingDay('2099-01-03')).toBe(false); // Saturday
    expect(cal.addWorkingDays('2099-01-02', 1)).toEqual({ date: '2099-01-05', provisional: true });
    expect(cal.nextWorkingDayOnOrAfter('2099-01-01')).toEqual({
      date: '2099-01-01',
      provisional: true,
    });
  });
  it('marks a result provisional as soon as it crosses into an uncovered year', () => {
    expect(cal.addWorkingDays('2026-12-24', 3)).toEqual({ date: '2026-12-29', provisional: false });
    expect(cal.addWorkingDays('2026-12-28', 5)).toEqual({ date: '2027-01-04', provisional: true });
    expect(cal.nextWorkingDayOnOrAfter('2026-12-31')).toEqual({
      date: '2026-12-31',
      provisional: false,
    });
    expect(cal.addWorkingDays('2003-12-31', 1)).toEqual({ date: '2004-01-02', provisional: false });
  });
});

describe('uploads override the package', () => {
  it('a later entry for the same year wins', () => {
    const upload: YearCalendar = {
      year: 2021,
      restDays: ['2021-10-11'],
      workingDays: [],
      source: 'test upload',
    };
    const c = createCalendar([...builtInYears(), upload]);
    expect(c.isWorkingDay('2021-10-11')).toBe(false);
    expect(c.isWorkingDay('2021-10-01')).toBe(true); // the package's 2021 is replaced entirely
    expect(c.isWorkingDay('2021-10-09')).toBe(false); // no make-up Saturday in the upload
    expect(c.yearCalendar(2021)?.source).toBe('test upload');
  });
  it('an uploaded uncovered year becomes official', () => {
    const c = createCalendar([
      ...builtInYears(),
      { year: 2099, restDays: ['2099-01-01'], workingDays: ['2099-01-03'], source: 'x' },
    ]);
    expect(c.coverage(2099)).toBe('official');
    expect(c.isWorkingDay('2099-01-01')).toBe(false);
    // only the days after the start are examined, and they are all in 2099
    expect(c.addWorkingDays('2098-12-31', 1)).toEqual({ date: '2099-01-02', provisional: false });
    expect(c.nextWorkingDayOnOrAfter('2098-12-31')).toEqual({
      date: '2098-12-31',
      provisional: true,
    });
    expect(c.addWorkingDays('2099-01-01', 2)).toEqual({ date: '2099-01-03', provisional: false });
  });
  it('refuses invalid year data', () => {
    expect(() =>
      createCalendar([{ year: 2021, restDays: [], workingDays: ['2021-10-11'], source: 'bad' }]),
    ).toThrow(/Saturday or Sunday/);
  });
});

describe('validateYearCalendar', () => {
  it('accepts a valid body and sorts it', () => {
    expect(
      validateYearCalendar(
        { restDays: ['2027-10-02', '2027-10-01'], workingDays: ['2027-09-26'] },
        2027,
      ),
    ).toEqual({
      ok: true,
      value: {
        year: 2027,
        restDays: ['2027-10-01', '2027-10-02'],
        workingDays: ['2027-09-26'],
        source: 'admin upload 2027',
      },
    });
  });
  it('reports every problem with a path', () => {
    const r = validateYearCalendar(
      {
        restDays: ['2027-02-30', '2026-10-01', '2027-10-01', '2027-10-01', '2027-09-26'],
        workingDays: ['2027-09-26', '2027-10-11'],
        source: '',
        extra: 1,
      },
      2027,
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map((e) => e.path)).toEqual([
      'extra',
      'restDays.0',
      'restDays.1',
      'restDays.3',
      'workingDays.0',
      'workingDays.1',
      'source',
    ]);
  });
  it('rejects non-objects, missing lists and bad years', () => {
    expect(validateYearCalendar(null, 2027).ok).toBe(false);
    expect(validateYearCalendar({ restDays: [] }, 2027)).toEqual({
      ok: false,
      errors: [{ path: 'workingDays', message: 'must be an array of YYYY-MM-DD dates' }],
    });
    expect(validateYearCalendar({ restDays: [], workingDays: [] }, 1800).ok).toBe(false);
  });
});

describe('calendarRows', () => {
  it('has a running working-day index matching workingDaysBetween', () => {
    const rows = calendarRows(2021, 2027, cal);
    expect(rows[0]).toEqual({
      date: '2021-01-01',
      isWorking: false,
      workingIndex: 0,
      provisional: false,
    });
    expect(rows.at(-1)).toMatchObject({ date: '2027-12-31', provisional: true });
    const idx = new Map(rows.map((r) => [r.date, r.workingIndex]));
    fc.assert(
      fc.property(fc.nat(rows.length - 1), fc.nat(rows.length - 1), (i, j) => {
        const [a, b] = [rows[Math.min(i, j)].date, rows[Math.max(i, j)].date];
        expect(idx.get(b)! - idx.get(a)!).toBe(cal.workingDaysBetween(a, b));
      }),
    );
  });
});

describe('properties against a naive day-by-day walk', () => {
  const day = fc.integer({ min: toDayNumber('1899-06-01'), max: toDayNumber('2300-06-01') });
  const naiveWorking = (dn: number) => cal.isWorkingDay(formatDayNumber(dn));
  it('addWorkingDays is the N-th working day strictly after', () => {
    fc.assert(
      fc.property(day, fc.integer({ min: 1, max: 40 }), (a, n) => {
        let d = a;
        for (let left = n; left > 0;) if (naiveWorking(++d)) left--;
        expect(cal.addWorkingDays(formatDayNumber(a), n).date).toBe(formatDayNumber(d));
      }),
    );
  });
  it('workingDaysBetween counts (from, to]', () => {
    fc.assert(
      fc.property(day, fc.integer({ min: -5, max: 60 }), (a, len) => {
        let count = 0;
        for (let d = a + 1; d <= a + len; d++) if (naiveWorking(d)) count++;
        expect(cal.workingDaysBetween(formatDayNumber(a), formatDayNumber(a + len))).toBe(count);
      }),
    );
  });
  it('day numbers round-trip and agree with Date', () => {
    fc.assert(
      fc.property(fc.integer({ min: -200000, max: 200000 }), (dn) => {
        const s = formatDayNumber(dn);
        expect(toDayNumber(s)).toBe(dn);
        if (dn > -100000) expect(new Date(dn * 86400000).toISOString().slice(0, 10)).toBe(s);
        expect(weekdayPrefix(dn) - weekdayPrefix(dn - 1)).toBe(isoWeekdayOf(dn) <= 5 ? 1 : 0);
      }),
    );
  });
  it('rejects malformed dates', () => {
    for (const bad of [
      '2021-02-29',
      '2021-13-01',
      '2021-1-01',
      '20210101',
      'abcd-ef-gh',
      '2021-00-10',
    ]) {
      expect(() => cal.isWorkingDay(bad)).toThrow(RangeError);
    }
    expect(() => cal.addWorkingDays('2021-01-01', 0)).toThrow(RangeError);
  });
});

/**
 * The SQL twin of obligationStatusAsOf (libs/domain rules/status.ts, THE definition): the
 * functions obligation_status / obligation_delay_end of migration ReadModels1732600000001 and
 * the business_days running working index, as the read queries use them through
 * obligationStatusColumns, must give exactly the same status, delayDays, delayWorkingDays and
 * daysLeft for any obligation and any as-of day, on the calendar the CalendarService holds.
 */
import {
  addDays,
  obligationStatusAsOf,
  ruleDeadline,
  type Obligation,
  type ObligationRule,
} from '@app/domain';
import { EVENT_STORE_MIGRATIONS } from '@app/event-store';
import { CalendarService, READ_MODEL_MIGRATIONS } from '@app/projections';
import { createTestDatabase, migrate, testPool, type TestDatabase } from '@app/testing';
import fc from 'fast-check';
import type { Pool } from 'pg';
import { obligationStatusColumns } from '../../libs/projections/src/queries/status-sql';

const SEED = Number(process.env.STATUS_SQL_SEED ?? 20211013);
const BATCH = 500;

const RULES: { rule: ObligationRule; unit: 'calendarDays' | 'workingDays'; n: number }[] = [
  { rule: 'signing', unit: 'calendarDays', n: 20 },
  { rule: 'announcement', unit: 'workingDays', n: 2 },
  { rule: 'filing', unit: 'workingDays', n: 7 },
  { rule: 'acceptance', unit: 'workingDays', n: 7 },
  { rule: 'payment', unit: 'workingDays', n: 5 },
  // due before its start (the notice): deadline = start − 30 days
  { rule: 'intention', unit: 'calendarDays', n: 30 },
];

/** Days around which statuses change most: Spring Festival and National Day, 2020–2027. */
const ANCHORS = [
  '2020-01-24',
  '2020-10-01',
  '2021-02-11',
  '2021-10-01',
  '2022-01-31',
  '2022-10-01',
  '2023-01-21',
  '2023-10-01',
  '2024-02-10',
  '2024-10-01',
  '2025-01-28',
  '2025-10-01',
  '2026-02-16',
  '2026-10-01',
  '2027-02-06',
  '2027-10-01',
  '2026-12-28',
  '2027-12-28',
];
const FIRST = '2020-01-01';
const SPAN = 8 * 365 + 2; // through 2027-12-31

const day = fc.oneof(
  fc.integer({ min: 0, max: SPAN - 1 }).map((n) => addDays(FIRST, n)),
  fc
    .tuple(fc.constantFrom(...ANCHORS), fc.integer({ min: -30, max: 30 }))
    .map(([a, n]) => addDays(a, n)),
);
const around = (base: string, min: number, max: number) =>
  fc.integer({ min, max }).map((n) => addDays(base, n));
const maybe = <T>(arb: fc.Arbitrary<T>, nullPercent: number) =>
  fc.integer({ min: 0, max: 99 }).chain((p) => (p < nullPercent ? fc.constant(null) : arb));

interface Case {
  o: Obligation;
  asOf: string;
}

function caseArb(cal: () => import('@app/domain').WorkCalendar): fc.Arbitrary<Case> {
  return fc
    .record({
      started: day,
      def: fc.constantFrom(...RULES),
      realistic: fc.integer({ min: 0, max: 9 }),
      randomLen: fc.integer({ min: 1, max: 40 }),
      workingDayRule: fc.boolean(),
    })
    .chain(({ started, def, realistic, randomLen, workingDayRule }) => {
      // 70%: the deadline the rule gives; 30%: any later day, either kind of counting
      const deadline =
        realistic < 7
          ? ruleDeadline(def.rule, started, { unit: def.unit, n: def.n }, cal()).date
          : addDays(started, randomLen);
      const working = realistic < 7 ? def.unit === 'workingDays' : workingDayRule;
      return fc.record({
        o: fc.record({
          rule: fc.constant(def.rule),
          key: fc.constant(def.rule),
          startedOn: fc.constant(started),
          deadline: fc.constant(deadline),
          fulfilledOn: maybe(around(started, -10, 70), 30),
          exemptedOn: maybe(around(started, -5, 70), 80),
          cancelledOn: maybe(around(started, -5, 70), 75),
          provisional: fc.constant(false),
          workingDayRule: fc.constant(working),
        }),
        asOf: fc.oneof(around(started, -10, 90), around(deadline, -2, 3), day),
      });
    });
}

// the project's testTimeout does not reach these tests: set it here
jest.setTimeout(90_000);

describe('SQL obligation status = obligationStatusAsOf', () => {
  let db: TestDatabase;
  let pool: Pool;
  let calendar: CalendarService;

  beforeAll(async () => {
    db = await createTestDatabase('stsql');
    await migrate(db.url, [...EVENT_STORE_MIGRATIONS, ...READ_MODEL_MIGRATIONS]);
    pool = testPool(db.url, 4);
    calendar = new CalendarService(pool);
    await calendar.ensureTable();
  });
  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  const { lateral, columns } = obligationStatusColumns('o', 'o.t');
  const SQL = `
    SELECT o.i, ${columns}
      FROM unnest($1::int[], $2::date[], $3::date[], $4::date[], $5::date[], $6::date[], $7::date[], $8::bool[])
             AS o(i, started_on, deadline, fulfilled_on, exempted_on, cancelled_on, t, working_day_rule)
      ${lateral}
     ORDER BY o.i`;

  interface Row {
    i: number;
    status: string | null;
    delay_days: number;
    delay_working_days: number | null;
    days_left: number | null;
  }

  /** statuses seen (so that agreement is not vacuous) */
  const seen = new Map<string, number>();

  /** Evaluates the cases in one round trip and returns the disagreements. */
  async function disagreements(cases: Case[]): Promise<unknown[]> {
    const { rows } = await pool.query<Row>(SQL, [
      cases.map((_, i) => i),
      cases.map((c) => c.o.startedOn),
      cases.map((c) => c.o.deadline),
      cases.map((c) => c.o.fulfilledOn),
      cases.map((c) => c.o.exemptedOn),
      cases.map((c) => c.o.cancelledOn),
      cases.map((c) => c.asOf),
      cases.map((c) => c.o.workingDayRule),
    ]);
    expect(rows).toHaveLength(cases.length);
    const out: unknown[] = [];
    for (const r of rows) {
      const c = cases[r.i];
      const expected = obligationStatusAsOf(c.o, c.asOf, calendar.current);
      const tag =
        expected === null
          ? 'not running'
          : `${expected.status}${expected.delayWorkingDays ? '+wd' : ''}`;
      seen.set(tag, (seen.get(tag) ?? 0) + 1);
      const actual =
        r.status === null
          ? null
          : {
              status: r.status,
              delayDays: r.delay_days,
              delayWorkingDays: r.delay_working_days,
              daysLeft: r.days_left,
            };
      if (JSON.stringify(actual) !== JSON.stringify(expected))
        out.push({ case: c, expected, actual });
    }
    return out;
  }

  async function checkProperty(seed: number, numRuns: number): Promise<number> {
    let checked = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          caseArb(() => calendar.current),
          { minLength: BATCH, maxLength: BATCH },
        ),
        async (cases) => {
          checked += cases.length;
          const bad = await disagreements(cases);
          expect(bad.slice(0, 3)).toEqual([]);
        },
      ),
      { seed, numRuns, endOnFailure: true },
    );
    return checked;
  }

  it('agrees on the SPEC worked examples and the edges of every branch', async () => {
    const cal = calendar.current;
    const ob = (
      p: Partial<Obligation> & Pick<Obligation, 'startedOn' | 'deadline'>,
    ): Obligation => ({
      rule: 'payment',
      key: 'payment:X',
      fulfilledOn: null,
      exemptedOn: null,
      cancelledOn: null,
      provisional: false,
      workingDayRule: true,
      ...p,
    });
    // 5 working days after 2021-09-28 is 2021-10-11; the signing deadline of 2021-09-13 is 2021-10-08
    expect(cal.addWorkingDays('2021-09-28', 5).date).toBe('2021-10-11');
    const pay = ob({ startedOn: '2021-09-28', deadline: '2021-10-11' });
    const sign = ob({
      rule: 'signing',
      key: 'signing',
      startedOn: '2021-09-13',
      deadline: '2021-10-08',
      workingDayRule: false,
    });
    const cases: Case[] = [];
    for (const o of [
      pay,
      { ...pay, fulfilledOn: '2021-10-11' },
      { ...pay, fulfilledOn: '2021-10-12' },
      { ...pay, fulfilledOn: '2021-09-20' }, // fulfilled before the clock started: met
      { ...pay, cancelledOn: '2021-10-11' },
      { ...pay, cancelledOn: '2021-10-20' },
      { ...pay, exemptedOn: '2021-10-15', fulfilledOn: '2021-10-13' },
      { ...pay, exemptedOn: '2021-09-27' },
      sign,
      { ...sign, fulfilledOn: '2021-10-09' },
      { ...sign, cancelledOn: '2021-10-30' },
    ]) {
      for (let d = -2; d <= 30; d++) cases.push({ o, asOf: addDays('2021-09-27', d) });
    }
    expect(await disagreements(cases)).toEqual([]);
    // spot values, so that the comparison is not vacuous
    expect(obligationStatusAsOf({ ...pay, fulfilledOn: '2021-10-20' }, '2021-10-20', cal)).toEqual({
      status: 'late',
      delayDays: 9,
      delayWorkingDays: 7,
      daysLeft: null,
    });
  });

  it('agrees on random obligations (batches of 500 per round trip)', async () => {
    seen.clear();
    const checked = await checkProperty(SEED, 24);
    expect(checked).toBe(24 * BATCH);
    for (const tag of [
      'not running',
      'pending',
      'met',
      'late',
      'late+wd',
      'overdue',
      'overdue+wd',
      'exempted',
      'cancelled',
    ]) {
      expect([tag, (seen.get(tag) ?? 0) > 50]).toEqual([tag, true]);
    }
  });

  it('still agrees after an official year is uploaded and the calendar table rewritten', async () => {
    const c = await pool.connect();
    try {
      await c.query('BEGIN');
      await CalendarService.storeYear(c, {
        year: 2027,
        restDays: [
          '2027-01-01',
          ...Array.from({ length: 8 }, (_, i) => addDays('2027-02-06', i)),
          ...Array.from({ length: 7 }, (_, i) => addDays('2027-10-01', i)),
        ],
        workingDays: ['2027-01-31', '2027-02-20', '2027-09-26', '2027-10-09'],
        source: 'test upload 2027',
      });
      expect(await calendar.refresh(c)).toBe(true);
      await calendar.writeTable(c);
      await c.query('COMMIT');
    } catch (err) {
      await c.query('ROLLBACK');
      throw err;
    } finally {
      c.release();
    }
    expect(calendar.current.coverage(2027)).toBe('official');
    expect(calendar.current.isWorkingDay('2027-02-08')).toBe(false); // a Monday of the upload
    const { rows } = await pool.query<{ w: boolean }>(
      `SELECT is_working AS w FROM business_days WHERE day = '2027-02-20'`,
    );
    expect(rows[0].w).toBe(true); // make-up Saturday
    const checked = await checkProperty(SEED + 1, 8);
    expect(checked).toBe(8 * BATCH);
  });
});

import { builtInYears, createCalendar } from '@app/calendar';
import type { WorkCalendar } from '../work-calendar';
import { obligationStatusAsOf, prepaymentStatusAsOf } from './status';
import type { Obligation, PrepaymentTrack } from './types';

const cal: WorkCalendar = createCalendar(builtInYears());

// payment obligation of the SPEC example: started 2021-09-28, due 2021-10-11 (5 working days)
const ob = (o: Partial<Obligation> = {}): Obligation => ({
  rule: 'payment',
  key: 'payment:INV-001',
  startedOn: '2021-09-28',
  deadline: '2021-10-11',
  fulfilledOn: null,
  exemptedOn: null,
  cancelledOn: null,
  provisional: false,
  workingDayRule: true,
  ...o,
});

describe('obligationStatusAsOf', () => {
  it.each([
    ['not running before its start', ob(), '2021-09-27', null],
    [
      'pending on its first day',
      ob(),
      '2021-09-28',
      { status: 'pending', delayDays: 0, delayWorkingDays: 0, daysLeft: 13 },
    ],
    [
      'pending on the deadline',
      ob(),
      '2021-10-11',
      { status: 'pending', delayDays: 0, delayWorkingDays: 0, daysLeft: 0 },
    ],
    [
      'overdue the day after',
      ob(),
      '2021-10-12',
      { status: 'overdue', delayDays: 1, delayWorkingDays: 1, daysLeft: null },
    ],
    [
      'overdue across a weekend',
      ob(),
      '2021-10-17',
      { status: 'overdue', delayDays: 6, delayWorkingDays: 4, daysLeft: null },
    ],
    [
      'met on the deadline',
      ob({ fulfilledOn: '2021-10-11' }),
      '2021-12-01',
      { status: 'met', delayDays: 0, delayWorkingDays: 0, daysLeft: null },
    ],
    [
      'fulfilment after T is not seen',
      ob({ fulfilledOn: '2021-10-11' }),
      '2021-10-01',
      { status: 'pending', delayDays: 0, delayWorkingDays: 0, daysLeft: 10 },
    ],
    [
      'late',
      ob({ fulfilledOn: '2021-10-20' }),
      '2021-12-01',
      { status: 'late', delayDays: 9, delayWorkingDays: 7, daysLeft: null },
    ],
    [
      'overdue until the late fulfilment',
      ob({ fulfilledOn: '2021-10-20' }),
      '2021-10-19',
      { status: 'overdue', delayDays: 8, delayWorkingDays: 6, daysLeft: null },
    ],
    [
      'exempted wins over everything',
      ob({ fulfilledOn: '2021-10-20', exemptedOn: '2021-10-15', cancelledOn: '2021-10-13' }),
      '2021-10-15',
      { status: 'exempted', delayDays: 0, delayWorkingDays: 0, daysLeft: null },
    ],
    [
      'exemption after T is not seen',
      ob({ exemptedOn: '2021-10-15' }),
      '2021-10-14',
      { status: 'overdue', delayDays: 3, delayWorkingDays: 3, daysLeft: null },
    ],
    [
      'cancelled before the deadline',
      ob({ cancelledOn: '2021-10-11' }),
      '2021-12-01',
      { status: 'cancelled', delayDays: 0, delayWorkingDays: 0, daysLeft: null },
    ],
    [
      'cancelled after the deadline stays overdue, frozen',
      ob({ cancelledOn: '2021-10-13' }),
      '2021-12-01',
      { status: 'overdue', delayDays: 2, delayWorkingDays: 2, daysLeft: null },
    ],
    [
      'fulfilled wins over cancelled',
      ob({ fulfilledOn: '2021-10-09', cancelledOn: '2021-10-10' }),
      '2021-12-01',
      { status: 'met', delayDays: 0, delayWorkingDays: 0, daysLeft: null },
    ],
    [
      'calendar-day rules have no working-day delay',
      ob({ rule: 'signing', workingDayRule: false }),
      '2021-10-20',
      { status: 'overdue', delayDays: 9, delayWorkingDays: null, daysLeft: null },
    ],
    [
      'calendar-day rules on time: null working-day delay',
      ob({ rule: 'signing', workingDayRule: false, fulfilledOn: '2021-10-01' }),
      '2021-10-20',
      { status: 'met', delayDays: 0, delayWorkingDays: null, daysLeft: null },
    ],
  ])('%s', (_name, o, asOf, expected) => {
    expect(obligationStatusAsOf(o, asOf, cal)).toEqual(expected);
  });
});

describe('prepaymentStatusAsOf', () => {
  const track = (t: Partial<PrepaymentTrack> = {}): PrepaymentTrack => ({
    startedOn: '2021-09-10',
    thresholdPercent: 50,
    contractAmountFen: 125000000n,
    requiredFen: 62500000n,
    metOn: null,
    endedOn: null,
    exemptedOn: null,
    prepayments: [
      { paymentId: 'P1', date: '2021-09-20', amountFen: 30000000n },
      { paymentId: 'P2', date: '2021-09-25', amountFen: 20000000n },
    ],
    ...t,
  });
  it.each([
    ['not started', track(), '2021-09-09', null],
    [
      'pending, sums only up to T',
      track(),
      '2021-09-22',
      { status: 'pending', prepaidFen: 30000000n, ratio: '0.2400', threshold: '0.50' },
    ],
    [
      'below once ended',
      track({ endedOn: '2021-10-01' }),
      '2021-10-01',
      { status: 'below', prepaidFen: 50000000n, ratio: '0.4000', threshold: '0.50' },
    ],
    [
      'met',
      track({ metOn: '2021-09-25', thresholdPercent: 30 }),
      '2021-09-25',
      { status: 'met', prepaidFen: 50000000n, ratio: '0.4000', threshold: '0.30' },
    ],
    [
      'exempted',
      track({ exemptedOn: '2021-09-30', endedOn: '2021-09-29' }),
      '2021-09-30',
      { status: 'exempted', prepaidFen: 50000000n, ratio: '0.4000', threshold: '0.50' },
    ],
  ])('%s', (_name, t, asOf, expected) => {
    expect(prepaymentStatusAsOf(t, asOf)).toEqual(expected);
  });
});

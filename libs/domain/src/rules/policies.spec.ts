import { builtInYears, createCalendar } from '@app/calendar';
import type { WorkCalendar } from '../work-calendar';
import { assessContract } from './assess';
import {
  BUILT_IN_POLICIES,
  overlappingLayer,
  ruleInForce,
  validatePolicyLayer,
  type PolicyLayer,
} from './policies';
import { given, statusOf, type History } from './test-builders';

const cal: WorkCalendar = createCalendar(builtInYears());

/** A history whose award names a unit in `region` (undefined: a unit without a region). */
function inRegion(region: string | undefined, contractId = 'C-1'): History {
  return given(contractId).add('AwardNoticeIssued', '2023-03-01', {
    purchasingUnit: { code: 'U-1', name: '某单位', ...(region !== undefined && { region }) },
    supplier: { creditCode: '91500102MA5U3XXXXX', name: '某供应商', size: 'small' },
    project: { code: 'P-1' },
    awardAmount: '1000.00',
  });
}
const assess = (h: History, layers: readonly PolicyLayer[] = BUILT_IN_POLICIES) =>
  assessContract(h.contractId, h.facts, cal, undefined, layers);
const brief = (h: History, layers?: readonly PolicyLayer[]) =>
  assess(h, layers).obligations.map((o) => [o.key, o.deadline, o.policy]);

describe('policy layers (SPEC §6)', () => {
  it('the most specific layer in force on the start day, rule by rule; national without a region', () => {
    const h = (r: string | undefined) =>
      inRegion(r)
        .signed('2023-03-10', { amount: '1000.00' })
        .performed('2023-04-03')
        .invoice('2023-04-04', 'I-1', '100.00');
    // Chongqing: 20 days; announcement and filing from the national layer; acceptance 7 working
    // days; an invoice payment rule of 5 working days
    expect(brief(h('500102'))).toEqual([
      ['signing', '2023-03-21', 'chongqing-2021'],
      ['announcement', '2023-03-14', 'national'],
      ['filing', '2023-03-21', 'national'],
      ['acceptance', '2023-04-13', 'chongqing-2021'],
      ['payment:I-1', '2023-04-12', 'chongqing-2021'], // 2023-04-05 is 清明
      // the SME is not accepted by the acceptance deadline: its payment clock starts there
      // (保障中小企业款项支付条例 art. 10 ¶2), 30 days → Saturday 2023-05-13 → Monday
      ['smePayment', '2023-05-15', 'national'],
    ]);
    // Beijing and a unit without a region: national — 30 days (2023-03-31, a Friday), no
    // acceptance without a period in the contract, no payment rule, no prepayment target; no
    // acceptance deadline and no acceptance: the SME payment clock has not started
    for (const r of ['110105', undefined]) {
      expect(brief(h(r))).toEqual([
        ['signing', '2023-03-31', 'national'],
        ['announcement', '2023-03-14', 'national'],
        ['filing', '2023-03-21', 'national'],
      ]);
      expect(assess(h(r)).prepayment).toBeNull();
    }
    expect(assess(h('500102')).prepayment).toMatchObject({
      thresholdPercent: 50,
      policy: 'chongqing-2021',
      source: 'seed item 15',
    });
  });

  it('national acceptance follows the period the contract states', () => {
    const h = inRegion('110105')
      .add('ContractSigned', '2023-03-10', { amount: '1000.00', acceptanceWorkingDays: 3 })
      .performed('2023-04-03');
    expect(statusOf(assess(h), 'acceptance', '2023-04-10', cal)).toMatchObject({
      deadline: '2023-04-07', // 2023-04-05 is 清明
      policy: 'national',
      status: 'overdue',
      delayWorkingDays: 1,
    });
  });

  it('a Chongqing contract before 2021 follows the national layer', () => {
    const h = given('C-2020').add('AwardNoticeIssued', '2020-12-01', {
      purchasingUnit: { code: 'U-1', name: '某单位', region: '500102' },
      supplier: { creditCode: '91500102MA5U3XXXXX', name: '某供应商', size: 'small' },
      project: { code: 'P-1' },
      awardAmount: '1000.00',
    });
    expect(brief(h)).toEqual([['signing', '2020-12-31', 'national']]);
  });

  it('a later, more specific layer wins from its first day; one that is off stops the rule', () => {
    const beijing: PolicyLayer = {
      id: 'beijing-2023',
      name: '北京',
      regions: ['11'],
      from: '2023-03-01',
      to: null,
      rules: { signing: { period: { unit: 'workingDays', n: 5 } }, filing: { off: true } },
      source: '京财采购〔2023〕1号',
    };
    const layers = [...BUILT_IN_POLICIES, beijing];
    const h = inRegion('110105').signed('2023-03-10', { amount: '1000.00' });
    expect(brief(h, layers)).toEqual([
      ['signing', '2023-03-08', 'beijing-2023'],
      ['announcement', '2023-03-14', 'national'],
    ]);
    const o = assess(h, layers).obligations[0];
    expect([o.source, o.workingDayRule]).toEqual(['京财采购〔2023〕1号', true]);
    expect(ruleInForce(layers, 'signing', '110105', '2023-02-28')?.policy).toBe('national');
    expect(ruleInForce(layers, 'signing', '120000', '2023-03-08')?.policy).toBe('national');
  });
});

describe('procurement intention (seed item 13; 财库〔2020〕10号)', () => {
  const notice = (h: History, date: string) =>
    h.add('ProcurementNoticePublished', date, { method: 'open_tender' });
  const intention = (h: History, date: string) =>
    h.add('ProcurementIntentionPublished', date, { url: 'https://example.gov.cn/i' });

  it('met: published on or before notice − 30 days (no rest-day shift)', () => {
    // notice 2023-03-01 → deadline 2023-01-30; 2021-10-03 (a holiday) stays 2021-10-03
    const h = notice(intention(inRegion('500102'), '2023-01-30'), '2023-03-01');
    expect(statusOf(assess(h), 'intention', '2023-03-01', cal)).toMatchObject({
      rule: 'intention',
      startedOn: '2023-03-01',
      deadline: '2023-01-30',
      fulfilledOn: '2023-01-30',
      status: 'met',
      policy: 'chongqing-2021',
      workingDayRule: false,
    });
    const holiday = notice(inRegion('500102', 'C-H'), '2021-11-02');
    expect(assess(holiday).obligations[0].deadline).toBe('2021-10-03');
  });

  it('late: published after the deadline (delay = intention − deadline), also after the notice', () => {
    const h = notice(intention(inRegion('500102'), '2023-02-10'), '2023-03-01');
    expect(statusOf(assess(h), 'intention', '2023-03-05', cal)).toMatchObject({
      status: 'late',
      delayDays: 11,
      delayWorkingDays: null,
    });
  });

  it('missing: overdue from the notice on; no obligation before the notice', () => {
    const h = notice(inRegion('110105'), '2023-03-01');
    expect(statusOf(assess(h), 'intention', '2023-03-10', cal)).toMatchObject({
      status: 'overdue',
      delayDays: 39,
      policy: 'national',
    });
    expect(statusOf(assess(h), 'intention', '2023-02-28', cal).status).toBeUndefined();
  });

  it('not in force: national before 2022-01-01 (Chongqing from 2021-01-01)', () => {
    const intentions = (region: string | undefined, on: string) =>
      assess(notice(inRegion(region), on)).obligations.filter((o) => o.rule === 'intention');
    expect(intentions('110105', '2021-12-31')).toEqual([]);
    expect(intentions(undefined, '2021-12-31')).toEqual([]);
    expect(intentions('110105', '2022-01-01')).toHaveLength(1);
    expect(intentions('500102', '2021-12-31')).toHaveLength(1);
    expect(intentions('500102', '2020-12-31')).toEqual([]);
  });

  it('exempted with the usual exemption (unforeseeable urgent purchase)', () => {
    const h = notice(inRegion('500102'), '2023-03-01').exempt('2023-03-05', 'intention');
    expect(statusOf(assess(h), 'intention', '2023-03-06', cal).status).toBe('exempted');
    expect(statusOf(assess(h), 'intention', '2023-03-04', cal).status).toBe('overdue');
  });

  it('before the award the procurement facts do not make the contract unknown', () => {
    const h = notice(given('C-P'), '2023-03-01');
    expect(assess(h).dataQuality).toEqual([]);
  });
});

describe('validatePolicyLayer', () => {
  const body = (rules: unknown, extra: Record<string, unknown> = {}) => ({
    name: '北京',
    regions: ['11'],
    from: '2023-01-01',
    rules,
    source: '京财采购〔2023〕1号',
    ...extra,
  });
  const problem = (input: unknown) => {
    const r = validatePolicyLayer('beijing-2023', input);
    return r.ok ? null : [r.problem.code, r.problem.path];
  };

  it('accepts periods, thresholds, off, and the contract period of acceptance', () => {
    const r = validatePolicyLayer(
      'beijing-2023',
      body({
        signing: { period: { unit: 'calendarDays', n: 15 } },
        acceptance: { period: { unit: 'workingDays', n: 'contract' } },
        prepayment: { thresholdPercent: { sme: 40, other: 20 } },
        payment: { off: true },
      }),
    );
    expect(r.ok && r.value).toMatchObject({ id: 'beijing-2023', to: null, regions: ['11'] });
  });

  it.each([
    ['an unknown rule', body({ paying: { off: true } }), ['POLICY.UNKNOWN_RULE', 'rules.paying']],
    [
      'a period of 0',
      body({ signing: { period: { unit: 'calendarDays', n: 0 } } }),
      ['POLICY.INVALID_SETTING', 'rules.signing.period.n'],
    ],
    [
      'a threshold for a deadline',
      body({ signing: { thresholdPercent: { sme: 1, other: 1 } } }),
      ['POLICY.INVALID_SETTING', 'rules.signing.thresholdPercent'],
    ],
    [
      'a contract period for a rule without one',
      body({ signing: { period: { unit: 'calendarDays', n: 'contract' } } }),
      ['POLICY.INVALID_SETTING', 'rules.signing.period.n'],
    ],
    [
      'working days before the notice',
      body({ intention: { period: { unit: 'workingDays', n: 20 } } }),
      ['POLICY.INVALID_SETTING', 'rules.intention.period.unit'],
    ],
    [
      'a region that is not digits',
      body({ signing: { off: true } }, { regions: ['11a'] }),
      ['POLICY.INVALID', 'regions.0'],
    ],
    [
      'a bad date',
      body({ signing: { off: true } }, { from: '2023-02-30' }),
      ['POLICY.INVALID', 'from'],
    ],
    [
      'to before from',
      body({ signing: { off: true } }, { to: '2022-12-31' }),
      ['POLICY.INVALID', 'to'],
    ],
    [
      'an unknown field',
      body({ signing: { off: true } }, { priority: 1 }),
      ['POLICY.INVALID', 'priority'],
    ],
    ['no rules', body({}), ['POLICY.INVALID', 'rules']],
    [
      'the national SME payment law in a local layer',
      body({ smePayment: { period: { unit: 'calendarDays', n: 45 } } }),
      ['POLICY.INVALID_SETTING', 'rules.smePayment'],
    ],
  ])('refuses %s', (_name, input, expected) => {
    expect(problem(input)).toEqual(expected);
  });

  it('the national layer keeps covering every region (units without one included)', () => {
    const r = validatePolicyLayer('national', body({ signing: { off: true } }));
    expect(r.ok ? null : [r.problem.code, r.problem.path]).toEqual(['POLICY.INVALID', 'regions']);
    expect(
      validatePolicyLayer('national', body({ signing: { off: true } }, { regions: [''] })).ok,
    ).toBe(true);
    // the SME payment period is the national layer's to set, in calendar days only
    const sme = (period: unknown) =>
      validatePolicyLayer('national', body({ smePayment: { period } }, { regions: [''] }));
    expect(sme({ unit: 'calendarDays', n: 30 }).ok).toBe(true);
    const wd = sme({ unit: 'workingDays', n: 30 });
    expect(wd.ok ? null : wd.problem.path).toBe('rules.smePayment.period.unit');
  });

  it('overlap: a shared prefix over overlapping ranges', () => {
    const v = (id: string, from: string | null, to: string | null, regions = ['11']) => {
      const r = validatePolicyLayer(id, body({ signing: { off: true } }, { from, to, regions }));
      if (!r.ok) throw new Error(r.problem.message);
      return r.value;
    };
    const a = v('a', '2023-01-01', '2023-12-31');
    expect(overlappingLayer(v('b', '2023-12-31', null), [a])?.id).toBe('a');
    expect(overlappingLayer(v('b', '2024-01-01', null), [a])).toBeUndefined();
    expect(overlappingLayer(v('b', null, null, ['110']), [a])).toBeUndefined();
    expect(overlappingLayer(v('a', null, null), [a])).toBeUndefined(); // a replacement
  });
});

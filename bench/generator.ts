/**
 * Synthetic, deterministic procurement event feed for benchmarks.
 *
 * Purchasing units spread over the districts of Chongqing (region codes 500101…500156),
 * suppliers of which ~70 % are SMEs, and contracts with realistic lifecycles:
 * award → signing → announcement & filing → invoices & payments → performance → acceptance
 * (some terminated, some with a failed acceptance, a few with a retracted wrong payment).
 * SME contracts carry the SME payment terms of SPEC §7 now and then (an agreed term, a few
 * over the lawful 60 days, an agreed interest rate, delivery as the payment condition), and
 * their final payment is on time, late or never made per the `smePayment` rate.
 * Each rule is violated at a configurable rate, as late (fulfilled after the deadline) or
 * overdue (never fulfilled); deadlines are computed with the official working-day calendar
 * so that "on time" and "late" are exact. Business dates span 2021–2025, holidays included
 * (events land on working days, except a few).
 *
 * Events of all contracts come out interleaved in business-time order, like a real feed.
 * Everything (ids included) derives from the seed: same options → same bytes.
 */
import { builtInYears, createCalendar } from '@app/calendar';
import { completeCreditCode, RULE_IDS, type RuleId } from '@app/contracts';
// the test library's envelope shape and PRNG (builders.ts alone: no test runner, no Docker)
import { mulberry32, type Envelope } from '../libs/testing/src/builders';

export { mulberry32, type Envelope };

export interface GeneratorOptions {
  contracts: number;
  seed: number;
  /** first and last award dates (YYYY-MM-DD) */
  awardFrom: string;
  awardTo: string;
  /** events after this business date are not emitted (the contract is still running) */
  until: string;
  /** number of purchasing units; default clamp(contracts / 100, 26, 5000) */
  units?: number;
  /** number of suppliers; default clamp(contracts / 8, 20, 200000) */
  suppliers?: number;
  /** share of suppliers that are SMEs (medium, small, micro) */
  smeShare: number;
  /** share of signed contracts terminated before performance */
  terminationRate: number;
  /** share of contracts with a wrong payment later retracted and corrected */
  retractionRate: number;
  /** share of performed contracts whose first acceptance fails */
  failedAcceptanceRate: number;
  /** per rule: share of obligations violated (late or overdue; prepayment: below target) */
  violations: Record<RuleId, number>;
  /** share of violations that are never fulfilled (overdue) rather than late */
  overdueShare: number;
  /** share of events whose occurredAt is written in UTC (`Z`) rather than +08:00 */
  utcShare: number;
}

export const DEFAULT_OPTIONS: GeneratorOptions = {
  contracts: 1000,
  seed: 20211101,
  awardFrom: '2021-01-04',
  awardTo: '2025-06-30',
  until: '2025-12-31',
  smeShare: 0.7,
  terminationRate: 0.04,
  retractionRate: 0.01,
  failedAcceptanceRate: 0.03,
  violations: {
    signing: 0.08,
    announcement: 0.12,
    filing: 0.1,
    acceptance: 0.1,
    payment: 0.15,
    prepayment: 0.25,
    intention: 0, // the generator sends no procurement notices
    smePayment: 0.2,
  },
  overdueShare: 0.25,
  utcShare: 0.05,
};

/** Chongqing's districts (市辖区) with their administrative division codes. */
export const DISTRICTS: ReadonlyArray<readonly [string, string]> = [
  ['500101', '万州区'],
  ['500102', '涪陵区'],
  ['500103', '渝中区'],
  ['500104', '大渡口区'],
  ['500105', '江北区'],
  ['500106', '沙坪坝区'],
  ['500107', '九龙坡区'],
  ['500108', '南岸区'],
  ['500109', '北碚区'],
  ['500110', '綦江区'],
  ['500111', '大足区'],
  ['500112', '渝北区'],
  ['500113', '巴南区'],
  ['500114', '黔江区'],
  ['500115', '长寿区'],
  ['500116', '江津区'],
  ['500117', '合川区'],
  ['500118', '永川区'],
  ['500119', '南川区'],
  ['500120', '璧山区'],
  ['500151', '铜梁区'],
  ['500152', '潼南区'],
  ['500153', '荣昌区'],
  ['500154', '开州区'],
  ['500155', '梁平区'],
  ['500156', '武隆区'],
];

const DEPARTMENTS = [
  '教育委员会',
  '卫生健康委员会',
  '交通局',
  '城市管理局',
  '财政局',
  '水利局',
  '农业农村委员会',
  '住房和城乡建设委员会',
  '公安局',
  '民政局',
  '人民医院',
  '中医院',
  '第一中学',
  '实验小学',
  '图书馆',
  '生态环境局',
  '市场监督管理局',
  '应急管理局',
];
const SUPPLIER_WORDS = [
  '鑫源',
  '恒达',
  '华信',
  '渝通',
  '山城',
  '长江',
  '巴渝',
  '博远',
  '嘉陵',
  '天府',
  '锦程',
  '正和',
];
const INDUSTRIES = [
  '科技',
  '建设工程',
  '信息技术',
  '医疗器械',
  '物业管理',
  '环保',
  '教育装备',
  '办公设备',
  '交通设施',
];
const PROJECTS = [
  '教学设备采购',
  '信息化系统建设',
  '医疗设备采购',
  '物业管理服务',
  '道路维修工程',
  '办公家具采购',
  '绿化养护服务',
  '安防监控系统',
];
const METHODS = ['公开招标', '竞争性磋商', '竞争性谈判', '询价', '单一来源'];

const DAY_MS = 86_400_000;

const dnCache = new Map<string, number>();
function dn(date: string): number {
  let d = dnCache.get(date);
  if (d === undefined)
    dnCache.set(date, (d = Math.round(Date.parse(`${date}T00:00:00Z`) / DAY_MS)));
  return d;
}
const dsCache: string[] = [];
function ds(day: number): string {
  return (dsCache[day] ??= new Date(day * DAY_MS).toISOString().slice(0, 10));
}
function fen(yuanFen: number): string {
  const f = Math.round(yuanFen);
  return `${Math.floor(f / 100)}.${String(f % 100).padStart(2, '0')}`;
}

interface PlannedEvent {
  ms: number;
  env: Envelope;
}

interface Unit {
  code: string;
  name: string;
  region: string;
}
interface Supplier {
  creditCode: string;
  name: string;
  size: 'large' | 'medium' | 'small' | 'micro';
}

/** A min-heap of contracts keyed by the time of their next event (then by contract order). */
class ContractHeap {
  private items: Array<{ events: PlannedEvent[]; i: number; order: number }> = [];
  get size(): number {
    return this.items.length;
  }
  private key(k: number): number {
    const it = this.items[k];
    return it.events[it.i].ms;
  }
  private less(a: number, b: number): boolean {
    const ka = this.key(a);
    const kb = this.key(b);
    return ka < kb || (ka === kb && this.items[a].order < this.items[b].order);
  }
  push(events: PlannedEvent[], order: number): void {
    if (events.length === 0) return;
    this.items.push({ events, i: 0, order });
    let k = this.items.length - 1;
    while (k > 0) {
      const p = (k - 1) >> 1;
      if (!this.less(k, p)) break;
      [this.items[k], this.items[p]] = [this.items[p], this.items[k]];
      k = p;
    }
  }
  peekMs(): number {
    return this.items.length ? this.key(0) : Infinity;
  }
  /** Takes the earliest event; the contract goes back in the heap if it has more. */
  pop(): Envelope {
    const top = this.items[0];
    const e = top.events[top.i++];
    if (top.i >= top.events.length) {
      const last = this.items.pop()!;
      if (this.items.length === 0) return e.env;
      this.items[0] = last;
    }
    this.siftDown(0);
    return e.env;
  }
  private siftDown(k: number): void {
    const n = this.items.length;
    for (;;) {
      const l = 2 * k + 1;
      const r = l + 1;
      let m = k;
      if (l < n && this.less(l, m)) m = l;
      if (r < n && this.less(r, m)) m = r;
      if (m === k) return;
      [this.items[k], this.items[m]] = [this.items[m], this.items[k]];
      k = m;
    }
  }
}

export interface GeneratorStats {
  contracts: number;
  events: number;
  byType: Record<string, number>;
  /** obligations generated late / overdue per rule (prepayment: below target) */
  late: Record<string, number>;
  overdue: Record<string, number>;
  terminated: number;
  smeContracts: number;
}

/**
 * The feed: every event of every contract, in business-time order. `stats` (if given) is
 * filled as events are produced.
 */
export type GeneratorInput = Partial<Omit<GeneratorOptions, 'violations'>> & {
  contracts: number;
  violations?: Partial<Record<RuleId, number>>;
  /** stop after this many events (a window of the feed: the last contracts are unfinished) */
  maxEvents?: number;
};

export function* generateEvents(
  partial: GeneratorInput,
  stats?: GeneratorStats,
): Generator<Envelope> {
  const o: GeneratorOptions = {
    ...DEFAULT_OPTIONS,
    ...partial,
    violations: { ...DEFAULT_OPTIONS.violations, ...partial.violations },
  };
  const rnd = mulberry32(o.seed);
  const cal = createCalendar(builtInYears());
  const untilMs = Date.parse(`${o.until}T23:59:59+08:00`);
  const clamp = (x: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, Math.round(x)));
  const nUnits = o.units ?? clamp(o.contracts / 100, 26, 5000);
  const nSuppliers = o.suppliers ?? clamp(o.contracts / 8, 20, 200000);
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const HEX = '0123456789abcdef';
  const uuid = (): string => {
    let s = '';
    for (let i = 0; i < 32; i++) {
      if (i === 8 || i === 12 || i === 16 || i === 20) s += '-';
      const x = Math.floor(rnd() * 16);
      s += i === 12 ? '4' : i === 16 ? HEX[(x & 0x3) | 0x8] : HEX[x];
    }
    return s;
  };

  const units: Unit[] = [];
  for (let i = 0; i < nUnits; i++) {
    const [region, district] = DISTRICTS[i % DISTRICTS.length];
    const dept = DEPARTMENTS[Math.floor(i / DISTRICTS.length) % DEPARTMENTS.length];
    const n = Math.floor(i / (DISTRICTS.length * DEPARTMENTS.length));
    units.push({
      code: completeCreditCode(`11${region}MB${String(i).padStart(7, '0')}`),
      name: `重庆市${district}${dept}${n > 0 ? `第${n + 1}分部` : ''}`,
      region,
    });
  }
  const suppliers: Supplier[] = [];
  for (let i = 0; i < nSuppliers; i++) {
    const [region] = pick(DISTRICTS);
    const r = rnd();
    const size: Supplier['size'] =
      r >= o.smeShare
        ? 'large'
        : r < o.smeShare * 0.3
          ? 'medium'
          : r < o.smeShare * 0.75
            ? 'small'
            : 'micro';
    suppliers.push({
      creditCode: completeCreditCode(`91${region}MA${String(i).padStart(7, '0')}`),
      name: `重庆${pick(SUPPLIER_WORDS)}${pick(INDUSTRIES)}有限公司`,
      size,
    });
  }
  // Unit activity is skewed (a few big buyers): weight ~ 1/(rank+5).
  const unitCum: number[] = [];
  let acc = 0;
  for (let i = 0; i < nUnits; i++) unitCum.push((acc += 1 / (i + 5)));
  const pickUnit = (): Unit => {
    const x = rnd() * acc;
    let lo = 0;
    let hi = nUnits - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (unitCum[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return units[lo];
  };

  // Award days: weight per day (working days; year-end rush in Nov-Dec; few on rest days),
  // contracts allocated by cumulative rounding, so the awards come out sorted.
  const first = dn(o.awardFrom);
  const last = dn(o.awardTo);
  const weights: number[] = [];
  let total = 0;
  for (let d = first; d <= last; d++) {
    const date = ds(d);
    const month = Number(date.slice(5, 7));
    const w = (cal.isWorkingDay(date) ? 1 : 0.03) * (month >= 11 ? 1.6 : month <= 2 ? 0.8 : 1);
    weights.push(w);
    total += w;
  }

  const heap = new ContractHeap();
  let seq = 0;
  let cumW = 0;
  let allocated = 0;
  const st = stats;

  const stamp = (day: number, late = false): { ms: number; text: string } => {
    // office hours, Asia/Shanghai; a few evening entries
    const h = late ? int(19, 23) : int(9, 17);
    const m = int(0, 59);
    const s = int(0, 59);
    const ms = Date.parse(`${ds(day)}T00:00:00+08:00`) + ((h * 60 + m) * 60 + s) * 1000;
    if (rnd() < o.utcShare) return { ms, text: new Date(ms).toISOString().replace('.000Z', 'Z') };
    const p2 = (x: number) => String(x).padStart(2, '0');
    return { ms, text: `${ds(day)}T${p2(h)}:${p2(m)}:${p2(s)}+08:00` };
  };
  /** Usually a working day: rest days are moved to the next working day (90 %). */
  const onWorking = (day: number): number => {
    if (rnd() < 0.1) return day;
    return dn(cal.nextWorkingDayOnOrAfter(ds(day)).date);
  };
  /** A fulfilment day relative to a deadline, per the rule's violation rate. */
  const fulfil = (
    rule: RuleId,
    start: number,
    deadline: number,
  ): { day: number | null; outcome: 'met' | 'late' | 'overdue' } => {
    if (rnd() < o.violations[rule]) {
      if (rnd() < o.overdueShare) return { day: null, outcome: 'overdue' };
      // late by 1–30 days, landing on a working day (still after the deadline)
      return { day: onWorking(deadline + int(1, 30)), outcome: 'late' };
    }
    // on time: a day in (start, deadline], preferring working days
    let day = start + int(1, Math.max(1, deadline - start));
    if (!cal.isWorkingDay(ds(day)) && rnd() < 0.9) {
      let d = day;
      while (d > start + 1 && !cal.isWorkingDay(ds(d))) d--;
      if (cal.isWorkingDay(ds(d))) day = d;
    }
    return { day, outcome: 'met' };
  };
  const wd = (start: number, n: number) => dn(cal.addWorkingDays(ds(start), n).date);
  const count = (rec: Record<string, number>, k: string) => (rec[k] = (rec[k] ?? 0) + 1);

  function planContract(awardDay: number): PlannedEvent[] {
    const index = seq++;
    const unit = pickUnit();
    const supplier = pick(suppliers);
    const sme = supplier.size !== 'large';
    const year = ds(awardDay).slice(0, 4);
    const contractId = `CQ-${unit.region}-${year}-${String(index + 1).padStart(7, '0')}`;
    const out: PlannedEvent[] = [];
    const add = (day: number, type: string, data: Record<string, unknown>, evening = false) => {
      const t = stamp(day, evening);
      const env: Envelope = {
        eventId: uuid(),
        type,
        contractId,
        occurredAt: t.text,
        schemaVersion: 1,
        data,
      };
      if (rnd() < 0.3) env.correlationId = `${unit.region}-${index}`;
      out.push({ ms: t.ms, env });
      return env;
    };
    // amount: log-uniform 50 k – 20 M yuan
    const amountFen = Math.round(Math.exp(Math.log(5e6) + rnd() * Math.log(400)));
    if (st) {
      st.contracts++;
      if (sme) st.smeContracts++;
    }
    add(awardDay, 'AwardNoticeIssued', {
      purchasingUnit: { code: unit.code, name: unit.name, region: unit.region },
      supplier: { creditCode: supplier.creditCode, name: supplier.name, size: supplier.size },
      project: {
        code: `CQZC-${unit.region}-${year}-${String(index + 1).padStart(7, '0')}`,
        name: pick(PROJECTS),
        method: pick(METHODS),
      },
      awardAmount: fen(amountFen),
    });
    const record = (rule: string, outcome: 'met' | 'late' | 'overdue' | 'below') => {
      if (!st) return;
      if (outcome === 'late') count(st.late, rule);
      if (outcome === 'overdue' || outcome === 'below') count(st.overdue, rule);
    };

    // signing: 20 calendar days, moved to the next working day if that is a rest day
    const signDeadline = dn(cal.nextWorkingDayOnOrAfter(ds(awardDay + 20)).date);
    const sign = fulfil('signing', awardDay, signDeadline);
    record('signing', sign.outcome);
    if (sign.day === null) return finish(out);
    const S = sign.day;
    const threshold = sme ? 50 : 30;
    const belowPrep = rnd() < o.violations.prepayment;
    const prepPercent = belowPrep
      ? rnd() < 0.4
        ? 0
        : int(5, threshold - 5)
      : rnd() < 0.7
        ? threshold
        : int(threshold, 60);
    // SME payment terms (SPEC §7): an agreed term (a few unlawful ones over 60 days), a rate,
    // delivery as the payment condition
    const termRoll = rnd();
    const agreedTerm = !sme
      ? undefined
      : termRoll < 0.02
        ? 90
        : termRoll < 0.2
          ? int(15, 60)
          : undefined;
    const smeRate = sme && rnd() < 0.2 ? pick(['0.0365', '0.0600', '0.1095']) : undefined;
    const onDelivery = sme && rnd() < 0.1;
    add(S, 'ContractSigned', {
      amount: fen(amountFen),
      ...(rnd() < 0.6 ? { prepaymentRatio: `0.${String(prepPercent).padStart(2, '0')}` } : {}),
      ...(agreedTerm !== undefined && { paymentTermDays: agreedTerm }),
      ...(smeRate !== undefined && { lateInterestRate: smeRate }),
      ...(onDelivery && { paymentCondition: 'delivery' }),
    });
    const ann = fulfil('announcement', S, wd(S, 2));
    record('announcement', ann.outcome);
    if (ann.day !== null)
      add(
        ann.day,
        'ContractAnnounced',
        rnd() < 0.7 ? { url: `https://www.ccgp-chongqing.gov.cn/htgg/${contractId}` } : {},
      );
    const filing = fulfil('filing', S, wd(S, 7));
    record('filing', filing.outcome);
    if (filing.day !== null) add(filing.day, 'ContractFiled', {});

    let invoiceNo = 0;
    let paymentNo = 0;
    let paid = 0;
    /** the day the payments made reached the amount so far (null once one is never made) */
    let paidThrough: number | null = S;
    /**
     * An invoice and (per the payment rule) its payment; `cond` = the day payment conditions
     * are met; `sme` (the SME final payment) pays by the SME deadline (`by`), or on a given
     * day (`on`; null: never).
     */
    const invoiceAndPay = (
      day: number,
      cond: number,
      amount: number,
      stage: string,
      sme?: { by: number } | { on: number | null },
    ) => {
      const inv = `FP${year}${String(index + 1).padStart(7, '0')}-${++invoiceNo}`;
      add(day, 'InvoiceReceived', { invoiceNo: inv, amount: fen(amount), stage });
      const start = Math.max(day, cond);
      const payDeadline = wd(start, 5);
      let pay = fulfil('payment', start, payDeadline);
      if (sme) {
        const on =
          'on' in sme
            ? sme.on === null
              ? null
              : Math.max(sme.on, start)
            : pay.day === null
              ? Math.max(start, sme.by)
              : Math.max(start, Math.min(pay.day, sme.by));
        pay = { day: on, outcome: on === null ? 'overdue' : on <= payDeadline ? 'met' : 'late' };
      }
      record('payment', pay.outcome);
      if (pay.day === null) {
        paidThrough = null;
        return;
      }
      const payment = () => ({
        paymentId: `ZF${year}${String(index + 1).padStart(7, '0')}-${++paymentNo}`,
        kind: stage,
        invoiceNo: inv,
      });
      if (rnd() < o.retractionRate) {
        // a wrong amount keyed in, retracted the next working day, then the right one
        const wrong = add(pay.day, 'PaymentMade', {
          ...payment(),
          amount: fen(Math.max(1, Math.round(amount / 10))),
        });
        const fix = wd(pay.day, 1);
        add(fix, 'EventRetracted', { retractedEventId: wrong.eventId, reason: '金额录入错误' });
        add(fix, 'PaymentMade', { ...payment(), amount: fen(amount) }, true);
        if (paidThrough !== null) paidThrough = Math.max(paidThrough, fix);
      } else {
        add(pay.day, 'PaymentMade', { ...payment(), amount: fen(amount) });
        if (paidThrough !== null) paidThrough = Math.max(paidThrough, pay.day);
      }
      paid += amount;
    };

    const prepAmount = Math.floor((amountFen * prepPercent) / 100);
    if (st && belowPrep) count(st.overdue, 'prepayment');
    if (prepAmount > 0) invoiceAndPay(onWorking(S + int(1, 10)), S, prepAmount, 'prepayment');

    const P = onWorking(S + int(30, 300));
    const withProgress = rnd() < 0.5;
    if (withProgress) {
      const mid = onWorking(S + Math.max(12, Math.floor((P - S) / 2)));
      invoiceAndPay(mid, S, Math.floor((amountFen - prepAmount) * 0.4), 'progress');
    }
    if (rnd() < o.terminationRate) {
      const end = onWorking(Math.min(P, S + int(15, 200)));
      add(end, 'ContractTerminated', {
        reason: pick(['双方协商解除', '供应商违约', '项目取消', '财政资金调整']),
      });
      if (st) st.terminated++;
      return finish(out);
    }
    add(P, 'PerformanceCompleted', {});
    const accDeadline = wd(P, 7);
    let acc = fulfil('acceptance', P, accDeadline);
    if (acc.day !== null && rnd() < o.failedAcceptanceRate) {
      add(P + 1, 'AcceptanceCompleted', { passed: false });
      if (acc.day <= P + 1)
        acc = { day: onWorking(P + 2), outcome: P + 2 <= accDeadline ? 'met' : 'late' };
    }
    record('acceptance', acc.outcome);
    // SME payment clock (SPEC §7): delivery, or the passed acceptance — the acceptance
    // deadline when acceptance is late or never comes
    const smeStart = onDelivery
      ? P
      : acc.day !== null && acc.day <= accDeadline
        ? acc.day
        : accDeadline;
    const smeTerm = Math.min(agreedTerm ?? 30, 60);
    const smeDeadline = dn(cal.nextWorkingDayOnOrAfter(ds(smeStart + smeTerm)).date);
    if (acc.day === null) {
      if (sme) record('smePayment', 'overdue');
      return finish(out);
    }
    add(acc.day, 'AcceptanceCompleted', { passed: true });
    const rest = amountFen - paid;
    const invoiceDay = onWorking(acc.day + int(0, 10));
    if (sme) {
      const target = fulfil('smePayment', smeStart, smeDeadline);
      const how = target.outcome === 'met' ? { by: smeDeadline } : { on: target.day };
      if (rest > 0) invoiceAndPay(invoiceDay, acc.day, rest, 'final', how);
      const full: number | null = paidThrough;
      record('smePayment', full === null ? 'overdue' : full <= smeDeadline ? 'met' : 'late');
    } else if (rest > 0) {
      invoiceAndPay(invoiceDay, acc.day, rest, 'final');
    }
    return finish(out);
  }

  function finish(events: PlannedEvent[]): PlannedEvent[] {
    // a contract's own events in business-time order (stable), cut at `until`
    return events.filter((e) => e.ms <= untilMs).sort((a, b) => a.ms - b.ms);
  }

  const maxEvents = partial.maxEvents ?? Infinity;
  let emitted = 0;
  const emit = (e: Envelope): Envelope => {
    emitted++;
    if (st) {
      st.events++;
      count(st.byType, e.type);
    }
    return e;
  };

  for (let i = 0; i < weights.length; i++) {
    cumW += weights[i];
    const upTo = i === weights.length - 1 ? o.contracts : Math.round((o.contracts * cumW) / total);
    const day = first + i;
    const dayStart = Date.parse(`${ds(day)}T00:00:00+08:00`);
    while (heap.peekMs() < dayStart) {
      if (emitted >= maxEvents) return;
      yield emit(heap.pop());
    }
    for (; allocated < upTo; allocated++) heap.push(planContract(day), seq);
  }
  while (heap.size > 0 && emitted < maxEvents) yield emit(heap.pop());
}

export function emptyStats(): GeneratorStats {
  return {
    contracts: 0,
    events: 0,
    byType: {},
    late: {},
    overdue: {},
    terminated: 0,
    smeContracts: 0,
  };
}

/** The feed in arrays of `size` events (the last one may be shorter). */
export function* inChunks<T>(it: Iterable<T>, size: number): Generator<T[]> {
  let chunk: T[] = [];
  for (const x of it) {
    chunk.push(x);
    if (chunk.length >= size) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length) yield chunk;
}

/** Parses `rule=rate,rule=rate` (e.g. `payment=0.3,signing=0`). */
export function parseViolations(spec: string): Partial<Record<RuleId, number>> {
  const out: Partial<Record<RuleId, number>> = {};
  for (const part of spec.split(',').filter(Boolean)) {
    const [k, v] = part.split('=');
    if (!(RULE_IDS as readonly string[]).includes(k))
      throw new Error(`unknown rule "${k}" (one of ${RULE_IDS.join(', ')})`);
    const x = Number(v);
    if (!(x >= 0 && x <= 1)) throw new Error(`rate for ${k} must be between 0 and 1, got "${v}"`);
    out[k as RuleId] = x;
  }
  return out;
}

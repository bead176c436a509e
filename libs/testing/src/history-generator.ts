/**
 * Realistic, deterministic contract histories for property tests (fast-check 4).
 *
 * `contractHistory(contractId)` is an arbitrary of one contract's facts as a procurement
 * platform would send them: award → signing (sometimes late, sometimes before the award) →
 * announcement / filing (some missing, some late) → 0–4 invoices (prepayment, progress, final)
 * and their payments (partial, with and without invoiceNo, some exceeding) → performance →
 * failed / passed acceptances → sometimes a termination, sometimes the retraction of an earlier
 * fact (and its corrected replacement). Business dates span 2020–2026 with a bias towards the
 * Spring Festival and National Day holidays; suppliers are SMEs and large companies; amounts are
 * yuan strings.
 *
 * Every history is one the ingestion decider accepts in SOME arrival order: no second singleton
 * while the first is live, a corrected replacement arrives after the retraction that freed its
 * identity (SPEC §2: a conflict until the first is retracted). Retractions may arrive before
 * their target. `arrivalOrder` / `interleavedArrival`
 * draw random arrival orders that keep those constraints.
 *
 * Deterministic: a history is a pure function of (an integer drawn by fast-check, contract id)
 * through a small seeded PRNG, and event ids are name-based UUIDs (v5 layout) of the contract id
 * and the fact's index, so a seed (fc.assert / fc.sample `seed`) reproduces the same histories,
 * and `historyFor(seed, contractId)` rebuilds one directly. Use distinct contract ids per
 * database. (fc.gen() is not used: sibling gen() values in a tuple share one random stream.)
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { creditCode, mulberry32, type Envelope } from './builders';

export interface ContractHistory {
  contractId: string;
  /** the facts in an arrival order the decider accepts (each after what it must follow) */
  events: Envelope[];
  /** eventId → eventIds that must have arrived before it (retraction targets, freed identities) */
  mustFollow: Record<string, string[]>;
}

export interface HistoryOptions {
  /** last business date of any fact (default 2026-12-31) */
  horizon?: string;
  /** earliest award date (default 2020-01-01) */
  from?: string;
  /** latest award date (default 2026-06-30) */
  to?: string;
}

/** Spring Festival (春节) eve-ish anchors and National Day (国庆) of 2020–2026. */
const HOLIDAY_ANCHORS = [
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
];

const UNITS = [
  { code: 'U-500102-001', name: '重庆市涪陵区教育委员会', region: '500102' },
  { code: 'U-500102-002', name: '重庆市涪陵区卫生健康委员会', region: '500102' },
  { code: 'U-500102-017', name: '重庆市涪陵区财政局' },
  { code: 'U-500103-004', name: '重庆市渝中区城市管理局', region: '500103' },
];
const SIZES = ['large', 'medium', 'small', 'micro'] as const;
const METHODS = ['公开招标', '竞争性磋商', '询价', '单一来源'];
const PROJECTS = ['教学设备采购', '医疗耗材采购', '物业管理服务', '办公家具采购', '信息化运维服务'];
const TERMINATION_REASONS = ['双方协商解除', '供应商严重违约', '采购需求取消'];
const RETRACTION_REASONS = ['数据录入错误', '重复推送', '日期填写错误'];

const NAMESPACE = '6ba7b811-9dad-11d1-80b4-00c04fd430c8'; // RFC 4122 URL namespace

/** A name-based UUID (RFC 4122 v5 layout: SHA-1 of namespace + name). */
export function nameUuid(name: string): string {
  const h = createHash('sha1')
    .update(Buffer.from(NAMESPACE.replace(/-/g, ''), 'hex'))
    .update(name)
    .digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

const DAY_MS = 86_400_000;
const dn = (date: string) => Math.round(Date.parse(`${date}T00:00:00Z`) / DAY_MS);
const fromDn = (n: number) => new Date(n * DAY_MS).toISOString().slice(0, 10);
const plus = (date: string, days: number) => fromDn(dn(date) + days);
const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** Fen as a yuan string with 2 decimals. */
export function yuan(fen: number): string {
  return `${Math.floor(fen / 100)}.${pad(fen % 100)}`;
}

interface Draws {
  int: (min: number, max: number) => number;
  chance: (percent: number) => boolean;
  pick: <T>(items: readonly T[]) => T;
}

function draws(seed: number, contractId: string): Draws {
  const salt = createHash('sha1').update(contractId).digest().readUInt32BE(0);
  // seeded: the histories are a pure function of (seed, contract id)
  const next = mulberry32((seed ^ salt) >>> 0);
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  return {
    int,
    chance: (percent) => int(0, 99) < percent,
    pick: (items) => items[int(0, items.length - 1)],
  };
}

/**
 * An instant whose business date (Asia/Shanghai) is `date`, in one of the shapes platforms
 * send: midnight or office hours in +08:00, UTC (`Z`, also the evening before in UTC), +09:00.
 * Different shapes may denote the very same instant.
 */
function instantOn({ int }: Draws, date: string): string {
  switch (int(0, 7)) {
    case 0:
    case 1:
      return `${date}T00:00:00+08:00`; // date-only platforms
    case 2:
    case 3:
      return `${date}T10:00:00+08:00`;
    case 4:
      return `${date}T${pad(int(8, 23))}:${pad(int(0, 3) * 15)}:00+08:00`;
    case 5:
      return `${date}T02:00:00Z`; // = 10:00 in Shanghai
    case 6:
      return `${plus(date, -1)}T${pad(int(16, 23))}:30:00Z`; // the evening before in UTC
    default:
      return `${date}T09:00:00+09:00`; // = 08:00 in Shanghai
  }
}

interface Draft {
  type: string;
  date: string;
  data: Record<string, unknown>;
  /** indexes of drafts that must arrive first */
  after: number[];
  /** may be retracted by a generated retraction */
  retractable: boolean;
}

function buildHistory(
  seed: number,
  contractId: string,
  o: Required<HistoryOptions>,
): ContractHistory {
  const d = draws(seed, contractId);
  const { int, chance, pick } = d;
  const drafts: Draft[] = [];
  const add = (
    type: string,
    date: string,
    data: Record<string, unknown> = {},
    after: number[] = [],
  ) => {
    drafts.push({ type, date, data, after, retractable: true });
    return drafts.length - 1;
  };

  // Award: anywhere in the range, or in the weeks before a long holiday.
  const fromDay = dn(o.from);
  const toDay = dn(o.to);
  let award: string;
  if (chance(45)) {
    const anchors = HOLIDAY_ANCHORS.filter((d) => dn(d) >= fromDay && dn(d) <= toDay + 30);
    award = plus(pick(anchors.length ? anchors : [o.from]), int(-25, 6));
  } else {
    award = fromDn(int(fromDay, toDay));
  }
  const size = pick(SIZES);
  const awardFen = pick([int(5_000_00, 200_000_00), int(200_000_00, 5_000_000_00), 1_250_000_00]);
  const hasAward = chance(95);
  if (hasAward) {
    add('AwardNoticeIssued', award, {
      purchasingUnit: pick(UNITS),
      supplier: {
        creditCode: creditCode(int(1, 40)),
        name: `重庆供应商${int(1, 40)}有限公司`,
        size,
      },
      project: { code: `P-${contractId}`, name: pick(PROJECTS), method: pick(METHODS) },
      awardAmount: yuan(awardFen),
    });
  }

  // Signing: mostly within 20 days, sometimes late, sometimes (doubtfully) before the award.
  const signed = chance(90);
  const signDate = plus(
    award,
    pick([int(1, 20), int(1, 20), int(1, 20), int(21, 60), 0, int(-5, -1)]),
  );
  const amountFen = chance(85) ? awardFen : Math.max(1, awardFen + int(-50_000_00, 50_000_00));
  if (signed) {
    const ratio = pick([undefined, undefined, '0.30', '0.50', '0.1', '0']);
    add('ContractSigned', signDate, {
      amount: yuan(amountFen),
      ...(ratio ? { prepaymentRatio: ratio } : {}),
    });
    if (chance(85)) {
      add('ContractAnnounced', plus(signDate, pick([int(0, 4), int(0, 4), int(5, 30), -1])), {
        ...(chance(60) ? { url: `https://www.ccgp-chongqing.gov.cn/notice/${contractId}` } : {}),
      });
    }
    if (chance(80))
      add('ContractFiled', plus(signDate, pick([int(1, 12), int(1, 12), int(13, 40)])));
  }
  const start = signed ? signDate : award;

  // Performance and acceptance.
  const performed = chance(70);
  const perfDate = plus(start, int(15, 180));
  let acceptedOn: string | undefined;
  if (performed) {
    add('PerformanceCompleted', perfDate);
    let last = perfDate;
    for (let i = int(0, 2); i > 0; i--) {
      last = plus(last, int(1, 10));
      add('AcceptanceCompleted', last, { passed: false });
    }
    if (chance(75)) {
      acceptedOn = plus(last, pick([int(1, 9), int(1, 9), int(10, 30)]));
      add('AcceptanceCompleted', acceptedOn, { passed: true });
    }
  }

  // Invoices and payments.
  const stages = ['prepayment', 'progress', 'progress', 'final'] as const;
  const invoiceCount = int(0, 4);
  for (let k = 0; k < invoiceCount; k++) {
    const stage = pick(stages);
    const invDate =
      stage === 'prepayment'
        ? plus(start, int(0, 15))
        : stage === 'progress'
          ? plus(start, int(10, 150))
          : plus(acceptedOn ?? (performed ? perfDate : start), int(-3, 20));
    const share =
      stage === 'prepayment' ? int(10, 60) : stage === 'progress' ? int(10, 50) : int(20, 70);
    const invFen = Math.max(1, Math.floor((amountFen * share) / 100) + int(0, 99));
    const invoiceNo = `FP${invDate.slice(0, 4)}${pad(k + 1, 6)}`;
    add('InvoiceReceived', invDate, { invoiceNo, amount: yuan(invFen), stage });
    for (let p = int(0, 2); p > 0; p--) {
      const payFen = pick([
        invFen,
        invFen,
        Math.max(1, Math.floor(invFen / int(2, 4))),
        invFen + int(1, 100_000),
      ]);
      add('PaymentMade', plus(invDate, pick([int(0, 10), int(0, 10), int(11, 60), int(-3, -1)])), {
        paymentId: `ZF-${contractId}-${k + 1}-${p}`,
        amount: yuan(payFen),
        kind: stage,
        ...(chance(65) ? { invoiceNo } : {}),
      });
    }
  }
  if (signed && chance(25)) {
    // a prepayment without an invoice (an advance paid straight on signing)
    add('PaymentMade', plus(signDate, int(0, 20)), {
      paymentId: `ZF-${contractId}-ADV`,
      amount: yuan(Math.max(1, Math.floor((amountFen * int(10, 60)) / 100))),
      kind: 'prepayment',
    });
  }

  if (chance(10))
    add('ContractTerminated', plus(start, int(5, 200)), { reason: pick(TERMINATION_REASONS) });

  // Nothing dated after the horizon has happened yet.
  const horizon = dn(o.horizon);
  const kept = keepUntil(drafts, horizon);

  // Retractions of earlier facts, sometimes followed by the corrected fact.
  const base = kept.length;
  const retracted = new Set<number>();
  for (let r = chance(20) ? int(1, 2) : 0; r > 0 && base > 0; r--) {
    const target = int(0, base - 1);
    if (retracted.has(target) || !kept[target].retractable) continue;
    retracted.add(target);
    const t = kept[target];
    const retractionDate = fromDn(Math.min(horizon, dn(t.date) + int(0, 30)));
    kept.push({
      type: 'EventRetracted',
      date: retractionDate,
      data: { retractedEventIndex: target, reason: pick(RETRACTION_REASONS) },
      after: [], // a retraction may arrive before its target (SPEC §2: any order)
      retractable: false,
    });
    const retraction = kept.length - 1;
    if (chance(50)) {
      // the corrected fact: same identity (singleton, invoiceNo, paymentId), other date/amount
      const data = { ...t.data };
      if (typeof data.amount === 'string')
        data.amount = yuan(Math.max(1, Math.round(Number(data.amount) * 100) + int(-1000, 1000)));
      const date = fromDn(Math.min(horizon, dn(t.date) + int(-3, 3)));
      kept.push({ type: t.type, date, data, after: [retraction], retractable: false });
    }
  }

  // Materialise envelopes.
  const ids = kept.map((_, i) => nameUuid(`${contractId}#${i}`));
  const events: Envelope[] = kept.map((f, i) => {
    const data = { ...f.data };
    if (f.type === 'EventRetracted') {
      data.retractedEventId = ids[data.retractedEventIndex as number];
      delete data.retractedEventIndex;
    }
    return {
      eventId: ids[i],
      type: f.type,
      contractId,
      occurredAt: instantOn(d, f.date),
      schemaVersion: 1,
      data,
    };
  });
  const mustFollow: Record<string, string[]> = {};
  kept.forEach((f, i) => {
    if (f.after.length) mustFollow[ids[i]] = f.after.map((a) => ids[a]);
  });
  return { contractId, events, mustFollow };
}

/** Drops drafts after the horizon (and whatever had to follow a dropped one). */
function keepUntil(drafts: Draft[], horizon: number): Draft[] {
  const keep = drafts.map((d) => dn(d.date) <= horizon);
  const index = new Map<number, number>();
  const out: Draft[] = [];
  drafts.forEach((d, i) => {
    if (!keep[i] || d.after.some((a) => !index.has(a))) return;
    index.set(i, out.length);
    out.push({ ...d, after: d.after.map((a) => index.get(a)!) });
  });
  return out;
}

const defaults = (options: HistoryOptions): Required<HistoryOptions> => ({
  horizon: options.horizon ?? '2026-12-31',
  from: options.from ?? '2020-01-01',
  to: options.to ?? '2026-06-30',
});

/** The history drawn for `seed` (what `contractHistory` generates from that integer). */
export function historyFor(
  seed: number,
  contractId: string,
  options: HistoryOptions = {},
): ContractHistory {
  return buildHistory(seed, contractId, defaults(options));
}

/** An arbitrary of one contract's history (see the module comment). */
export function contractHistory(
  contractId: string,
  options: HistoryOptions = {},
): fc.Arbitrary<ContractHistory> {
  const o = defaults(options);
  return fc
    .noBias(fc.integer({ min: 0, max: 0x7fffffff }))
    .map((seed) => buildHistory(seed, contractId, o));
}

/** `count` histories with the contract ids `${prefix}-0001`, `${prefix}-0002`, … */
export function contractHistories(
  prefix: string,
  count: number,
  options: HistoryOptions = {},
): fc.Arbitrary<ContractHistory[]> {
  return fc.tuple(
    ...Array.from({ length: count }, (_, i) =>
      contractHistory(`${prefix}-${pad(i + 1, 4)}`, options),
    ),
  );
}

/**
 * A random arrival order of several contracts' events, interleaved, keeping every
 * `mustFollow` constraint (Kahn's algorithm with random priorities).
 */
export function interleavedArrival(
  histories: readonly ContractHistory[],
): fc.Arbitrary<Envelope[]> {
  const all = histories.flatMap((h) => h.events);
  return fc
    .array(fc.noBias(fc.nat()), { minLength: all.length, maxLength: all.length })
    .map((priority) => arrange(histories, all, priority));
}

/** A random arrival order of one contract's events keeping its `mustFollow` constraints. */
export function arrivalOrder(history: ContractHistory): fc.Arbitrary<Envelope[]> {
  return interleavedArrival([history]);
}

function arrange(
  histories: readonly ContractHistory[],
  all: Envelope[],
  priority: number[],
): Envelope[] {
  const rank = new Map(all.map((e, i) => [e.eventId, priority[i] * all.length + i]));
  const deps = new Map<string, string[]>();
  for (const h of histories)
    for (const [id, after] of Object.entries(h.mustFollow)) deps.set(id, after);
  const placed = new Set<string>();
  const out: Envelope[] = [];
  const waiting = [...all].sort((a, b) => rank.get(a.eventId)! - rank.get(b.eventId)!);
  while (waiting.length > 0) {
    const i = waiting.findIndex((e) => (deps.get(e.eventId) ?? []).every((d) => placed.has(d)));
    if (i < 0) throw new Error('mustFollow constraints form a cycle');
    const [e] = waiting.splice(i, 1);
    placed.add(e.eventId);
    out.push(e);
  }
  return out;
}

/** Does `order` keep every `mustFollow` constraint of these histories? */
export function respectsConstraints(
  histories: readonly ContractHistory[],
  order: readonly Envelope[],
): boolean {
  const at = new Map(order.map((e, i) => [e.eventId, i]));
  return histories.every((h) =>
    Object.entries(h.mustFollow).every(([id, after]) =>
      after.every((a) => at.get(a)! < at.get(id)!),
    ),
  );
}

/** Deterministic sample of `count` histories for a seed (no property runner needed). */
export function sampleHistories(
  prefix: string,
  count: number,
  seed: number,
  options: HistoryOptions = {},
): ContractHistory[] {
  return fc.sample(contractHistories(prefix, count, options), { seed, numRuns: 1 })[0];
}

import { isBusinessDate, type BusinessDate } from '../business-date';
import type { RuleId } from '../facts';
import { RULES, type Period } from './definitions';
import { SME_PAYMENT } from './sme-payment';

/**
 * Policy layers (SPEC §6): named sets of rule settings, each with its citation, in force for
 * purchasing units whose region starts with one of the layer's prefixes (`""`: every region,
 * and units without one), over a range of dates (inclusive; `to` null: open-ended). For each
 * obligation the rule engine takes, rule by rule, the most specific layer (longest matching
 * prefix) in force, with a setting for that rule, on the day the obligation's clock starts.
 * Pure data: the built-in layers below, replaced or extended by the admin API.
 */
export type RuleSetting = (
  | {
      /** `n: 'contract'`: the period the contract states (rules with a `contractPeriod`), else not monitored */
      period: { unit: Period['unit']; n: number | 'contract' };
    }
  | { thresholdPercent: { sme: number; other: number } }
  | { off: true }
) & {
  /** in force for clocks starting on or after this day only (within the layer's range) */
  from?: BusinessDate;
  /** the article this setting follows (default: the layer's `source`) */
  source?: string;
};

export interface PolicyLayer {
  id: string;
  name: string;
  /** region-code prefixes (digits); `""` matches every region and a unit without one */
  regions: string[];
  /** first day in force (null: always) */
  from: BusinessDate | null;
  /** last day in force (null: open-ended) */
  to: BusinessDate | null;
  rules: Partial<Record<RuleId, RuleSetting>>;
  source: string;
}

export const NATIONAL = 'national';

/** The built-in layers, exactly as SPEC §6 lists them. */
export const BUILT_IN_POLICIES: readonly PolicyLayer[] = [
  {
    id: NATIONAL,
    name: '全国（政府采购法及其实施条例）',
    regions: [''],
    from: null,
    to: null,
    rules: {
      signing: {
        period: { unit: 'calendarDays', n: 30 },
        source: '政府采购法 art. 46',
      },
      announcement: {
        period: { unit: 'workingDays', n: 2 },
        source: '政府采购法实施条例 art. 50',
      },
      filing: { period: { unit: 'workingDays', n: 7 }, source: '政府采购法 art. 47' },
      acceptance: {
        period: { unit: 'workingDays', n: 'contract' },
        source: '政府采购法实施条例 art. 45 (the acceptance period the contract states)',
      },
      payment: {
        off: true,
        source: 'no national period for paying an invoice (SME payment: 国务院令第728号, SPEC §7)',
      },
      prepayment: { off: true, source: 'no national prepayment target' },
      intention: {
        period: { unit: 'calendarDays', n: 30 },
        from: '2022-01-01',
        source: '财库〔2020〕10号 (units below province level, from 2022-01-01)',
      },
      // the 2020 text (第728号, in force 2020-09-01) already had the 30/60-day rule and the
      // interest; the revision (第802号, 2025-06-01) renumbered it: arts. 8, 9, 15 became 9, 10, 17
      smePayment: {
        period: { unit: 'calendarDays', n: SME_PAYMENT.defaultTermDays },
        from: '2020-09-01',
        source:
          '保障中小企业款项支付条例 arts. 9, 10, 17 (国务院令第802号; arts. 8, 9, 15 of 第728号 before 2025-06-01); 民法典 art. 203',
      },
    },
    source: '政府采购法; 政府采购法实施条例; 保障中小企业款项支付条例',
  },
  {
    id: 'chongqing-2021',
    name: '重庆市涪陵区2021年优化营商环境方案 一（四）',
    regions: ['50'],
    from: '2021-01-01',
    to: null,
    rules: {
      signing: {
        period: { unit: 'calendarDays', n: 20 },
        source: 'seed item 13; 政府采购法 art. 46',
      },
      acceptance: { period: { unit: 'workingDays', n: 7 }, source: 'seed item 14' },
      payment: { period: { unit: 'workingDays', n: 5 }, source: 'seed item 15' },
      prepayment: { thresholdPercent: { sme: 50, other: 30 }, source: 'seed item 15' },
      intention: {
        period: { unit: 'calendarDays', n: 30 },
        source: 'seed item 13 (严格落实政府采购意向公开); 财库〔2020〕10号',
      },
    },
    source: '重庆市涪陵区2021年深化“放管服”改革优化营商环境重点任务分工方案 items 13–15',
  },
];

/** A rule's setting as it applies to one obligation: which layer, which article. */
export interface RuleInForce {
  policy: string;
  source: string;
  setting: RuleSetting;
}

/**
 * The setting of `rule` for a unit in `region` (undefined: none) on day `on`: the most
 * specific layer (longest matching prefix) in force that day with a setting for the rule.
 * Null when there is none, or when that setting is `off`.
 */
export function ruleInForce(
  layers: readonly PolicyLayer[],
  rule: RuleId,
  region: string | undefined,
  on: BusinessDate,
): RuleInForce | null {
  const r = region ?? '';
  let best: { len: number; layer: PolicyLayer; setting: RuleSetting } | null = null;
  for (const layer of layers) {
    if ((layer.from !== null && on < layer.from) || (layer.to !== null && on > layer.to)) continue;
    const setting = layer.rules[rule];
    if (!setting || (setting.from !== undefined && on < setting.from)) continue;
    let len = -1;
    for (const p of layer.regions) if (r.startsWith(p) && p.length > len) len = p.length;
    if (len < 0) continue;
    if (!best || len > best.len) best = { len, layer, setting };
  }
  if (!best || 'off' in best.setting) return null;
  return {
    policy: best.layer.id,
    source: best.setting.source ?? best.layer.source,
    setting: best.setting,
  };
}

/**
 * The period of a rule in force, for a contract that states `contractPeriods` (e.g. its
 * acceptance period): null when the setting is not a period, or takes the contract's and the
 * contract states none.
 */
export function periodOf(r: RuleInForce, contractPeriod: number | undefined): Period | null {
  if (!('period' in r.setting)) return null;
  const { unit, n } = r.setting.period;
  if (n !== 'contract') return { unit, n };
  return contractPeriod === undefined ? null : { unit, n: contractPeriod };
}

export const POLICY_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,63}$/;
const REGION_PREFIX = /^[0-9]{0,12}$/;

export type PolicyProblem = { code: PolicyProblemCode; path: string; message: string };
export const PolicyProblemCodes = {
  INVALID: 'POLICY.INVALID',
  UNKNOWN_RULE: 'POLICY.UNKNOWN_RULE',
  INVALID_SETTING: 'POLICY.INVALID_SETTING',
  OVERLAPPING: 'POLICY.OVERLAPPING',
} as const;
export type PolicyProblemCode = (typeof PolicyProblemCodes)[keyof typeof PolicyProblemCodes];

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isText = (v: unknown, max: number): v is string =>
  typeof v === 'string' && v.trim().length > 0 && v.length <= max;
const intIn = (v: unknown, lo: number, hi: number): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;

/**
 * Checks a layer given by the admin API (`{name, regions, from, to?, rules, source}`) and
 * returns it as a `PolicyLayer`, or the first problem: unknown fields, unknown rules, a period
 * under 1 day (or over 365), a threshold outside 1–100, a setting that does not fit its rule,
 * region prefixes that are not digits, dates that are not days or `to` before `from`.
 */
export function validatePolicyLayer(
  id: string,
  input: unknown,
): { ok: true; value: PolicyLayer } | { ok: false; problem: PolicyProblem } {
  const bad = (code: PolicyProblemCode, path: string, message: string) => ({
    ok: false as const,
    problem: { code, path, message },
  });
  const I = PolicyProblemCodes.INVALID;
  if (!POLICY_ID_PATTERN.test(id))
    return bad(I, 'id', 'must be 1-64 characters of [a-z0-9-], starting with a letter or digit');
  if (!isObject(input)) return bad(I, '', 'must be an object');
  for (const k of Object.keys(input))
    if (!['name', 'regions', 'from', 'to', 'rules', 'source'].includes(k))
      return bad(I, k, 'unknown field');
  const { name, regions, from, to, rules, source } = input;
  if (!isText(name, 200)) return bad(I, 'name', 'must be a non-empty string of at most 200');
  if (!isText(source, 500)) return bad(I, 'source', 'must be a non-empty string of at most 500');
  if (!Array.isArray(regions) || regions.length === 0 || regions.length > 100)
    return bad(I, 'regions', 'must be an array of 1-100 region-code prefixes');
  for (const [i, p] of regions.entries())
    if (typeof p !== 'string' || !REGION_PREFIX.test(p))
      return bad(I, `regions.${i}`, 'must be a prefix of digits (at most 12; "" for every region)');
  if (id === NATIONAL && !regions.includes(''))
    return bad(I, 'regions', 'the national layer covers every region: it must include ""');
  if (from !== null && from !== undefined && !isBusinessDate(from))
    return bad(I, 'from', 'must be a date YYYY-MM-DD or null');
  if (to !== null && to !== undefined && !isBusinessDate(to))
    return bad(I, 'to', 'must be a date YYYY-MM-DD or null');
  if (isBusinessDate(from) && isBusinessDate(to) && to < from)
    return bad(I, 'to', 'must not be before from');
  if (!isObject(rules) || Object.keys(rules).length === 0)
    return bad(I, 'rules', 'must be an object with at least one rule');
  const out: PolicyLayer['rules'] = {};
  for (const [rule, raw] of Object.entries(rules)) {
    const path = `rules.${rule}`;
    if (!(rule in RULES))
      return bad(
        PolicyProblemCodes.UNKNOWN_RULE,
        path,
        `unknown rule; one of ${Object.keys(RULES).join(', ')}`,
      );
    const def = RULES[rule as RuleId];
    const S = PolicyProblemCodes.INVALID_SETTING;
    if (!isObject(raw)) return bad(S, path, 'must be an object');
    if (def.nationalOnly && id !== NATIONAL)
      return bad(
        S,
        path,
        `${rule} is national law in force in every region: only the national layer sets it`,
      );
    const kinds = ['period', 'thresholdPercent', 'off'].filter((k) => k in raw);
    for (const k of Object.keys(raw))
      if (!['period', 'thresholdPercent', 'off', 'from', 'source'].includes(k))
        return bad(S, `${path}.${k}`, 'unknown field');
    if (kinds.length !== 1)
      return bad(S, path, 'must have exactly one of period, thresholdPercent, off');
    const extra: { from?: BusinessDate; source?: string } = {};
    if (raw.from !== undefined) {
      if (!isBusinessDate(raw.from)) return bad(S, `${path}.from`, 'must be a date YYYY-MM-DD');
      extra.from = raw.from;
    }
    if (raw.source !== undefined) {
      if (!isText(raw.source, 500)) return bad(S, `${path}.source`, 'must be a non-empty string');
      extra.source = raw.source;
    }
    if (kinds[0] === 'off') {
      if (raw.off !== true) return bad(S, `${path}.off`, 'must be true');
      out[rule as RuleId] = { off: true, ...extra };
    } else if (kinds[0] === 'period') {
      const p = raw.period;
      if (def.deadline === 'target')
        return bad(S, `${path}.period`, `${rule} is a target: give thresholdPercent`);
      if (!isObject(p) || Object.keys(p).some((k) => k !== 'unit' && k !== 'n'))
        return bad(S, `${path}.period`, 'must be {unit, n}');
      if (p.unit !== 'calendarDays' && p.unit !== 'workingDays')
        return bad(S, `${path}.period.unit`, 'must be calendarDays or workingDays');
      if (def.deadline === 'before' && p.unit !== 'calendarDays')
        return bad(S, `${path}.period.unit`, `${rule} counts calendar days before its start`);
      if (def.nationalOnly && p.unit !== 'calendarDays')
        return bad(S, `${path}.period.unit`, `${rule} counts calendar days (SPEC §7)`);
      if (p.n === 'contract') {
        if (!def.contractPeriod)
          return bad(S, `${path}.period.n`, `${rule} has no period stated by the contract`);
      } else if (!intIn(p.n, 1, 365)) {
        return bad(S, `${path}.period.n`, 'must be an integer from 1 to 365');
      }
      out[rule as RuleId] = { period: { unit: p.unit, n: p.n }, ...extra };
    } else {
      const t = raw.thresholdPercent;
      if (def.deadline !== 'target')
        return bad(S, `${path}.thresholdPercent`, `${rule} is a deadline: give period`);
      if (!isObject(t) || Object.keys(t).some((k) => k !== 'sme' && k !== 'other'))
        return bad(S, `${path}.thresholdPercent`, 'must be {sme, other}');
      if (!intIn(t.sme, 1, 100) || !intIn(t.other, 1, 100))
        return bad(S, `${path}.thresholdPercent`, 'sme and other must be integers from 1 to 100');
      out[rule as RuleId] = { thresholdPercent: { sme: t.sme, other: t.other }, ...extra };
    }
  }
  return {
    ok: true,
    value: {
      id,
      name,
      regions: [...new Set(regions as string[])].sort(),
      from: from ?? null,
      to: to ?? null,
      rules: out,
      source,
    },
  };
}

/**
 * Two layers that could both be the most specific for one unit on one day: they share a
 * region prefix and their date ranges overlap. Refused: which of them counts would be a guess.
 * Returns the first such layer of `others` (the layer with the same id excluded).
 */
export function overlappingLayer(
  layer: PolicyLayer,
  others: readonly PolicyLayer[],
): PolicyLayer | undefined {
  const overlaps = (a: PolicyLayer, b: PolicyLayer) =>
    (a.to === null || b.from === null || b.from <= a.to) &&
    (b.to === null || a.from === null || a.from <= b.to);
  return others.find(
    (o) =>
      o.id !== layer.id && o.regions.some((p) => layer.regions.includes(p)) && overlaps(layer, o),
  );
}

import { Query } from '@nestjs/cqrs';
import type { AccessScope } from './scope';

export type StatusCounts = Record<
  'met' | 'late' | 'overdue' | 'pending' | 'exempted' | 'cancelled',
  number
>;

export interface UnitRankingItem {
  rank: number;
  unitCode: string;
  unitName: string | null;
  region: string | null;
  contracts: number;
  onTimeRate: number | null;
  violations: number;
  counts: StatusCounts;
  rules: Record<string, StatusCounts & { onTimeRate: number | null }>;
}

export interface UnitRankingPage {
  asOf: string;
  sort: string;
  page: number;
  pageSize: number;
  total: number;
  items: UnitRankingItem[];
}

export const UNIT_SORTS = [
  'onTimeRate',
  '-onTimeRate',
  'violations',
  '-violations',
  'unitCode',
] as const;
export type UnitSort = (typeof UNIT_SORTS)[number];

/** SPEC §4 `GET /v1/units`: purchasing units ranked, per-rule counts and on-time rate. */
export class ListUnitsQuery extends Query<UnitRankingPage> {
  constructor(
    readonly asOf: string,
    readonly region: string | undefined,
    readonly rule: string | undefined,
    readonly sort: UnitSort,
    readonly page: number,
    readonly pageSize: number,
    readonly scope?: AccessScope,
  ) {
    super();
  }
}

export interface RuleCompliance {
  rule: string;
  counts: StatusCounts;
  total: number;
  onTimeRate: number | null;
  meanDelayDays: number | null;
  medianDelayDays: number | null;
  meanDelayWorkingDays: number | null;
  medianDelayWorkingDays: number | null;
}

export interface PrepaymentSplit {
  threshold: string;
  contracts: number;
  met: number;
  below: number;
  pending: number;
  exempted: number;
}

export interface UnitComplianceView {
  unitCode: string;
  unitName: string | null;
  region: string | null;
  asOf: string;
  from: string | null;
  to: string | null;
  contracts: number;
  onTimeRate: number | null;
  rules: RuleCompliance[];
  prepayment: { sme: PrepaymentSplit; nonSme: PrepaymentSplit };
  /**
   * late interest owed to SMEs as of `asOf` (SPEC §7), yuan: the sum of the contracts'
   * `lateInterest` (each rounded once), over the obligations the period selects
   */
  smeLateInterest: string;
}

/** SPEC §4 `GET /v1/units/{unitCode}/compliance`. Period filters on the deadline. */
export class GetUnitComplianceQuery extends Query<UnitComplianceView> {
  constructor(
    readonly unitCode: string,
    readonly asOf: string,
    readonly from: string | undefined,
    readonly to: string | undefined,
    readonly scope?: AccessScope,
  ) {
    super();
  }
}

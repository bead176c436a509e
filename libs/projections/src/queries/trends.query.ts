import { Query } from '@nestjs/cqrs';
import type { AccessScope } from './scope';
import type { StatusCounts } from './units.query';

export interface TrendMonth {
  /** the deadline's business month, `YYYY-MM` (Asia/Shanghai) */
  month: string;
  counts: StatusCounts;
  total: number;
  onTimeRate: number | null;
  violations: number;
}

export interface TrendsView {
  asOf: string;
  from: string;
  to: string;
  region: string | null;
  unit: string | null;
  rule: string | null;
  /** every month from `from` to `to`, in order, zero counts included */
  months: TrendMonth[];
}

/**
 * SPEC §9 `GET /v1/trends?from=&to=&region=&unit=&rule=`: per month of deadline, the
 * obligations' statuses as of `asOf`. `from` / `to` are months `YYYY-MM`, inclusive.
 */
export class GetTrendsQuery extends Query<TrendsView> {
  constructor(
    readonly asOf: string,
    readonly from: string,
    readonly to: string,
    readonly filter: { region?: string; unit?: string; rule?: string },
    readonly scope?: AccessScope,
  ) {
    super();
  }
}

import { Query } from '@nestjs/cqrs';
import type { AccessScope } from './scope';
import type { StatusCounts } from './units.query';

/** Counts by status with what the overview shows beside them. */
export interface OverviewCounts {
  counts: StatusCounts;
  /** obligations started by asOf (every status) */
  total: number;
  /** met / (met + late + overdue), 4 decimals rounded down; null when nothing was due */
  onTimeRate: number | null;
  /** not fulfilled, exempted or cancelled on asOf: pending + overdue */
  open: number;
  overdue: number;
  /** late + overdue */
  violations: number;
}

export interface OverviewUnit {
  unitCode: string;
  unitName: string | null;
  region: string | null;
  onTimeRate: number | null;
  violations: number;
  counts: StatusCounts;
}

export interface OverviewView {
  asOf: string;
  region: string | null;
  /** all rules together, and the number of units with an obligation started by asOf */
  totals: OverviewCounts & { units: number };
  /** one entry per obligation rule, in the rules' order (zero counts included) */
  rules: Array<OverviewCounts & { rule: string }>;
  /** the units with the lowest on-time rate (most violations first on a tie), at most 5 */
  worstUnits: OverviewUnit[];
  /**
   * SME late interest (SPEC §7, art. 17) on asOf over the units in view, a yuan string: the
   * sum of their `GET /v1/units/{code}/compliance` `smeLateInterest` (and of the contracts'
   * `lateInterest`).
   */
  smeLateInterest: string;
}

/** How many units `worstUnits` lists. */
export const OVERVIEW_WORST_UNITS = 5;

/**
 * SPEC §9 `GET /v1/overview?asOf=&region=`: the dashboard's first page, from the per-unit
 * summaries (the same counting as `GET /v1/units`).
 */
export class GetOverviewQuery extends Query<OverviewView> {
  constructor(
    readonly asOf: string,
    readonly region: string | undefined,
    readonly scope?: AccessScope,
  ) {
    super();
  }
}

import { Query } from '@nestjs/cqrs';
import type { OverviewCounts } from './overview.query';
import type { AccessScope } from './scope';

export interface RegionRow extends OverviewCounts {
  /** the units' region code; null for units without one */
  region: string | null;
  /** units of this region with an obligation started by asOf */
  units: number;
  /** per obligation rule (only the `rule` asked for, when one is): the heat map's cells */
  rules: Array<OverviewCounts & { rule: string }>;
}

export interface RegionsView {
  asOf: string;
  rule: string | null;
  /** by region code, units without a region last */
  items: RegionRow[];
}

/** SPEC §9 `GET /v1/regions?asOf=&rule=`: per region code (and per rule), from the summaries. */
export class GetRegionsQuery extends Query<RegionsView> {
  constructor(
    readonly asOf: string,
    readonly rule: string | undefined,
    readonly scope?: AccessScope,
  ) {
    super();
  }
}

import { Query } from '@nestjs/cqrs';
import type { AccessScope } from './scope';

export interface DeadlineFilter {
  /** today (Asia/Shanghai): deadlines on or after it */
  today: string;
  /** working days ahead (0–30): deadlines whose working days left are at most this */
  within: number;
  unit?: string;
  /** region code prefix */
  region?: string;
  rule?: string;
}

/** One open obligation with its deadline ahead (SPEC §8). */
export interface DeadlineView {
  contractId: string;
  rule: string;
  key: string;
  /** the policy layer the deadline follows (SPEC §6) */
  policy: string | null;
  /** the article of that layer's setting */
  source: string | null;
  startedOn: string;
  deadline: string;
  /** calendar days from today to the deadline (0: due today) */
  daysLeft: number;
  /** working days after today up to and including the deadline, by the official calendar */
  workingDaysLeft: number;
  unit: { code: string; name: string | null; region: string | null } | null;
  supplier: { creditCode: string; name: string | null; sme: boolean | null } | null;
  /** the deadline needs a year without an official calendar (weekends only) */
  provisional: boolean;
}

export interface DeadlinePage {
  /** today, the day the answer is computed for */
  asOf: string;
  within: number;
  /** the last day within N working days: deadlines from asOf to until are listed */
  until: string;
  page: number;
  pageSize: number;
  hasMore: boolean;
  items: DeadlineView[];
}

/** SPEC §8 `GET /v1/deadlines`: open obligations due within N working days, soonest first. */
export class ListDeadlinesQuery extends Query<DeadlinePage> {
  constructor(
    readonly filter: DeadlineFilter,
    readonly page: number,
    readonly pageSize: number,
    readonly scope?: AccessScope,
  ) {
    super();
  }
}

import { Query } from '@nestjs/cqrs';
import type { AccessScope } from './scope';

export interface ViolationFilter {
  asOf: string;
  unit?: string;
  rule?: string;
  status?: 'late' | 'overdue';
  /** deadline on or after */
  from?: string;
  /** deadline on or before */
  to?: string;
}

export interface ViolationView {
  contractId: string;
  rule: string;
  key: string;
  unitCode: string | null;
  unitName: string | null;
  region: string | null;
  supplierCreditCode: string | null;
  supplierName: string | null;
  startedOn: string;
  deadline: string;
  fulfilledOn: string | null;
  status: 'late' | 'overdue';
  delayDays: number;
  delayWorkingDays: number | null;
  provisional: boolean;
  policy: string | null;
  source: string | null;
}

export interface ViolationPage {
  asOf: string;
  page: number;
  pageSize: number;
  hasMore: boolean;
  items: ViolationView[];
}

/** Violations (late or overdue as of a day), newest deadline first, stable order. */
export class ListViolationsQuery extends Query<ViolationPage> {
  constructor(
    readonly filter: ViolationFilter,
    readonly page: number,
    readonly pageSize: number,
    readonly scope?: AccessScope,
  ) {
    super();
  }
}

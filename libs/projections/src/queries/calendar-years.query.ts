import { Query } from '@nestjs/cqrs';

export interface CalendarYearsView {
  /** every year with an official calendar: package data and uploads */
  officialYears: number[];
  /** the years uploaded by administrators */
  uploaded: Array<{ year: number; source: string; loaded_at: Date }>;
  /** an upload (or a package change) the projector has not applied to the stored deadlines yet */
  pending: boolean;
}

/** `GET /v1/admin/calendar`: read from the database, marks nothing. */
export class GetCalendarYearsQuery extends Query<CalendarYearsView> {}

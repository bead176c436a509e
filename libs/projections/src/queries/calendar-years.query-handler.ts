import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { ReadPool } from '@app/platform';
import { CalendarService } from '../calendar.service';
import { GetCalendarYearsQuery, type CalendarYearsView } from './calendar-years.query';

@QueryHandler(GetCalendarYearsQuery)
export class GetCalendarYearsHandler implements IQueryHandler<GetCalendarYearsQuery> {
  constructor(
    private readonly db: ReadPool,
    private readonly calendar: CalendarService,
  ) {}

  async execute(): Promise<CalendarYearsView> {
    const { rows } = await this.db.pool.query<CalendarYearsView['uploaded'][number]>(
      `SELECT year, source, loaded_at FROM calendar_years ORDER BY year`,
    );
    const inForce = await this.calendar.inForce(this.db.pool);
    const state = await this.db.pool.query<{ applied: string | null; fingerprint: string }>(
      'SELECT applied_version::text AS applied, applied_fingerprint AS fingerprint FROM calendar_state',
    );
    const applied = state.rows[0];
    return {
      officialYears: inForce.years.map((y) => y.year),
      uploaded: rows,
      pending: applied.applied !== inForce.version || applied.fingerprint !== inForce.fingerprint,
    };
  }
}

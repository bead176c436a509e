import {
  builtInYears,
  calendarRows,
  createCalendar,
  type OfficialCalendar,
  type YearCalendar,
} from '@app/calendar';
import { withTransaction } from '@app/event-store';
import type { Pool, PoolClient } from 'pg';
import type { ComplianceProjector } from './projector';
import { LIVE_SCHEMA } from './read-model-ddl';

/** Days covered by the SQL calendar table (deadlines and as-of dates must fall inside). */
export const CALENDAR_TABLE_FROM_YEAR = 2000;
export const CALENDAR_TABLE_TO_YEAR = 2100;

type Sql = Pick<PoolClient, 'query'>;

/**
 * The working-day calendar in force: the `chinese-days` package data, overridden by official
 * years uploaded through the admin API (table calendar_years). `calendar_state.version`
 * changes on every upload so that every instance notices and reloads.
 */
export class CalendarService {
  private calendar: OfficialCalendar = createCalendar(builtInYears());
  private loadedVersion = -1n;
  private uploaded = new Map<number, string>();
  /** years whose uploaded data changed at the last refresh */
  changedYears: number[] = [];

  constructor(private readonly pool: Pool) {}

  get current(): OfficialCalendar {
    return this.calendar;
  }

  get version(): bigint {
    return this.loadedVersion;
  }

  /** Reloads when the stored version changed. Returns true when it did. */
  async refresh(c: Sql = this.pool): Promise<boolean> {
    const { rows } = await c.query<{ version: string }>('SELECT version::text FROM calendar_state');
    const version = BigInt(rows[0]?.version ?? '0');
    if (version === this.loadedVersion) return false;
    const years = await c.query<{
      year: number;
      rest_days: string[];
      working_days: string[];
      source: string;
    }>(
      `SELECT year, rest_days::text[] AS rest_days, working_days::text[] AS working_days, source FROM calendar_years ORDER BY year`,
    );
    const uploaded: YearCalendar[] = years.rows.map((r) => ({
      year: r.year,
      restDays: r.rest_days,
      workingDays: r.working_days,
      source: r.source,
    }));
    this.calendar = createCalendar([...builtInYears(), ...uploaded]);
    const next = new Map(
      uploaded.map((y) => [y.year, JSON.stringify([y.restDays, y.workingDays])]),
    );
    this.changedYears = [...new Set([...next.keys(), ...this.uploaded.keys()])].filter(
      (y) => next.get(y) !== this.uploaded.get(y),
    );
    this.uploaded = next;
    this.loadedVersion = version;
    return true;
  }

  /** Stores an official year and bumps the version, in the caller's transaction. */
  static async storeYear(c: Sql, y: YearCalendar): Promise<void> {
    await c.query(
      `INSERT INTO calendar_years (year, rest_days, working_days, source) VALUES ($1, $2::date[], $3::date[], $4)
       ON CONFLICT (year) DO UPDATE SET rest_days = excluded.rest_days, working_days = excluded.working_days,
         source = excluded.source, loaded_at = now()`,
      [y.year, y.restDays, y.workingDays, y.source],
    );
    await c.query('UPDATE calendar_state SET version = version + 1');
  }

  /** Rewrites the SQL calendar table from the calendar in force (one statement). */
  async writeTable(c: Sql): Promise<void> {
    const rows = calendarRows(CALENDAR_TABLE_FROM_YEAR, CALENDAR_TABLE_TO_YEAR, this.calendar);
    await c.query('DELETE FROM business_days');
    await c.query(
      `INSERT INTO business_days (day, is_working, working_index, provisional)
       SELECT * FROM unnest($1::date[], $2::bool[], $3::int[], $4::bool[])`,
      [
        rows.map((r) => r.date),
        rows.map((r) => r.isWorking),
        rows.map((r) => r.workingIndex),
        rows.map((r) => r.provisional),
      ],
    );
  }

  /** Makes sure the SQL calendar table exists for the calendar in force (any role, at boot). */
  async ensureTable(): Promise<void> {
    await this.refresh();
    await withTransaction(this.pool, async (client) => {
      await client.query(`SELECT pg_advisory_xact_lock(hashtext('calendar-table'))`);
      const { rows } = await client.query<{ n: string }>(
        'SELECT count(*)::text AS n FROM business_days',
      );
      if (rows[0].n === '0') await this.writeTable(client);
    });
  }

  /**
   * After an upload: rewrite the calendar table and recompute every contract whose deadlines
   * were provisional, in one transaction (readers see the old or the new calendar, never a mix).
   */
  applyChange(projector: ComplianceProjector, schema = LIVE_SCHEMA): Promise<number> {
    return withTransaction(this.pool, async (client) => {
      await client.query(`SELECT pg_advisory_xact_lock(hashtext('calendar-table'))`);
      await this.writeTable(client);
      // Provisional deadlines, and any deadline whose span touches a year that changed (an
      // upload may also correct a year the package already had). A span never exceeds ~40 days.
      const years = this.changedYears;
      const { rows } = await client.query<{ contract_id: string }>(
        `SELECT contract_id FROM "${schema}".obligations
          WHERE provisional
             OR extract(year FROM started_on)::int = ANY($1::int[])
             OR extract(year FROM deadline)::int = ANY($1::int[])
         UNION
         SELECT contract_id FROM "${schema}".invoices WHERE provisional`,
        [years],
      );
      const ids = rows.map((r) => r.contract_id);
      for (let i = 0; i < ids.length; i += 1000)
        await projector.recompute(client, schema, ids.slice(i, i + 1000));
      return ids.length;
    });
  }
}

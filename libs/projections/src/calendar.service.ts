import { createHash } from 'node:crypto';
import {
  builtInYears,
  calendarRows,
  createCalendar,
  type OfficialCalendar,
  type YearCalendar,
} from '@app/calendar';
import { withTransaction } from '@app/event-store';
import type { Pool, PoolClient } from 'pg';
import type { PolicyApplyResult, PolicyService } from './policy.service';
import type { ComplianceProjector } from './projector';
import { LIVE_SCHEMA } from './read-model-ddl';
import { lockRulesExclusively, RULES_LOCK } from './rules-lock';

/** Days covered by the SQL calendar table (deadlines and as-of dates must fall inside). */
export const CALENDAR_TABLE_FROM_YEAR = 2000;
export const CALENDAR_TABLE_TO_YEAR = 2100;

type Sql = Pick<PoolClient, 'query'>;

/** The calendar in force: package data merged with the uploads, and its fingerprint. */
export interface CalendarInForce {
  /** `calendar_state.version` the uploads were read at */
  version: string;
  /** one entry per official year, normalised (sorted, deduplicated), by year */
  years: YearCalendar[];
  fingerprint: string;
  calendar: OfficialCalendar;
}

export interface CalendarApplyResult {
  /** `busy`: another transaction holds the calendar lock (an apply, or a rebuild running) */
  outcome: 'applied' | 'up-to-date' | 'busy';
  /** the upload version now applied (when applied or up to date) */
  version: string | null;
  /** years whose working days changed, and the contracts recomputed for them */
  years: number[];
  contracts: number;
}

/** Years (with their days) in a stable form: what deadlines depend on, the source left out. */
function dayKey(y: YearCalendar): string {
  return JSON.stringify([y.restDays, y.workingDays]);
}

function fingerprintOf(years: readonly YearCalendar[]): string {
  const h = createHash('sha256');
  for (const y of years) h.update(`${y.year}:${dayKey(y)}\n`);
  return h.digest('hex');
}

/** Years whose working days differ between two calendars (a year present in only one too). */
function changedYears(a: readonly YearCalendar[], b: readonly YearCalendar[]): number[] {
  const before = new Map(a.map((y) => [y.year, dayKey(y)]));
  const after = new Map(b.map((y) => [y.year, dayKey(y)]));
  return [...new Set([...before.keys(), ...after.keys()])]
    .filter((y) => before.get(y) !== after.get(y))
    .sort((x, y) => x - y);
}

/** Later entries win; returns the normalised years of the resulting calendar. */
function build(years: readonly YearCalendar[]): {
  years: YearCalendar[];
  calendar: OfficialCalendar;
} {
  const calendar = createCalendar(years);
  return {
    calendar,
    years: calendar.coveredYears().map((y) => calendar.yearCalendar(y)!),
  };
}

/**
 * The working-day calendar: the `chinese-days` package data, overridden by official years
 * uploaded through the admin API (table calendar_years; every upload bumps
 * `calendar_state.version`).
 *
 * What the read models and `business_days` were computed with is recorded in the database:
 * `calendar_state.applied_version` / `applied_fingerprint` / `applied_calendar` (the whole
 * applied calendar, package data included). `apply` brings them to the calendar in force —
 * rewrites business_days, recomputes the contracts whose deadlines touch a year that
 * changed, and records the result as applied — in one transaction under the calendar lock,
 * so exactly one instance applies a change, a failure leaves nothing half done, and the
 * next projector tick retries it. Nothing is kept in an instance's memory that decides
 * whether a change was applied; reading the calendar marks nothing.
 */
export class CalendarService {
  private calendar: OfficialCalendar = createCalendar(builtInYears());
  private loadedFingerprint: string | null = null;
  /** the applied calendar, by fingerprint (filled from the database) */
  private applied: { fingerprint: string; calendar: OfficialCalendar } | null = null;
  /** the calendar in force at one upload version (for the projector's cheap check) */
  private inForceAt: CalendarInForce | null = null;

  /**
   * With `policies`, the boot check and the leader's tick bring the policy layers up to date
   * too, right after the calendar and under the same lock: together they are the rules in
   * force (docs/decisions.md "Policies").
   */
  constructor(
    private readonly pool: Pool,
    private readonly policies?: PolicyService,
  ) {}

  /**
   * The calendar in force as of the last `refresh()` (package data + uploads). Tests and
   * tools compute with it; the application's projector uses `forTransaction`.
   */
  get current(): OfficialCalendar {
    return this.calendar;
  }

  /** Loads the calendar in force into `current`. Marks nothing. True when it changed. */
  async refresh(c: Sql = this.pool): Promise<boolean> {
    const f = await this.inForce(c);
    if (f.fingerprint === this.loadedFingerprint) return false;
    this.calendar = f.calendar;
    this.loadedFingerprint = f.fingerprint;
    return true;
  }

  /** The calendar in force, read from the database now: package data + uploaded years. */
  async inForce(c: Sql = this.pool): Promise<CalendarInForce> {
    const { rows } = await c.query<{ version: string; uploads: YearCalendar[] }>(
      `SELECT s.version::text AS version,
              coalesce((SELECT json_agg(json_build_object('year', y.year, 'restDays', y.rest_days,
                         'workingDays', y.working_days, 'source', y.source) ORDER BY y.year)
                          FROM calendar_years y), '[]'::json) AS uploads
         FROM calendar_state s`,
    );
    const { years, calendar } = build([...builtInYears(), ...rows[0].uploads]);
    const f = { version: rows[0].version, years, fingerprint: fingerprintOf(years), calendar };
    this.inForceAt = f;
    return f;
  }

  /** Stores an uploaded official year (its own transaction); the projector applies it. */
  upload(y: YearCalendar): Promise<void> {
    return withTransaction(this.pool, (c) => CalendarService.storeYear(c, y));
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

  /** Rewrites the SQL calendar table from a calendar (by default `current`). */
  async writeTable(c: Sql, cal: OfficialCalendar = this.calendar): Promise<void> {
    const rows = calendarRows(CALENDAR_TABLE_FROM_YEAR, CALENDAR_TABLE_TO_YEAR, cal);
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

  /**
   * A database where no calendar was ever applied (new, or migrated from before applied state
   * was recorded) or whose calendar table is empty gets the calendar in force applied; one
   * where no policy layers were ever applied gets the layers in force applied (recomputing
   * every stored contract). Then loads `current`. For tests, the bench and CLIs; the service
   * does the two steps itself (`ensureCalendar` before it listens, `ensurePolicies` beside it).
   */
  async ensureTable(projector?: ComplianceProjector): Promise<void> {
    await this.ensureCalendar(projector);
    await this.ensurePolicies(projector);
  }

  /**
   * At boot (any role), before the service listens: the calendar part of `ensureTable`, so
   * that `business_days` is filled for every query. A package change on an applied database
   * is left to the projector leader (`applyIfChanged` on its first tick), so that instances
   * of two versions side by side do not take turns.
   */
  async ensureCalendar(projector?: ComplianceProjector): Promise<void> {
    const { rows } = await this.pool.query<{ applied: boolean; filled: boolean }>(
      `SELECT applied_fingerprint IS NOT NULL AS applied,
              EXISTS (SELECT 1 FROM business_days) AS filled
         FROM calendar_state`,
    );
    if (!rows[0].applied || !rows[0].filled) await this.apply(projector, { wait: true });
    await this.refresh();
  }

  /**
   * The first apply of the policy layers (any role) when none was ever applied. On a new
   * database that recomputes nothing; on one migrated from before layers existed it recomputes
   * every contract in one transaction (470.8 s for 1 M contracts, docs/benchmarks.md), so the
   * service does not wait for it to listen: until it commits, every answer is the one the read
   * models held before (batches compute with the built-in layers, as `applied` gives them
   * while none was applied, and wait for it on the rules lock), and `GET /v1/policies` says
   * `pending: true`. Null when nothing was to do.
   */
  async ensurePolicies(projector?: ComplianceProjector): Promise<PolicyApplyResult | null> {
    if (!this.policies) return null;
    const p = await this.pool.query<{ applied: boolean }>(
      'SELECT applied_fingerprint IS NOT NULL AS applied FROM policy_state',
    );
    if (p.rows[0].applied) return null;
    return this.policies.apply(projector, { wait: true });
  }

  /**
   * The applied calendar, for computing deadlines in transaction `c`: takes the calendar lock
   * shared, so an apply waits for this transaction and this transaction waits for an apply in
   * progress — what it computes is never older than what is recorded as applied when it
   * commits. Every instance computes with the same calendar, read from the database.
   */
  async forTransaction(c: Sql): Promise<OfficialCalendar> {
    await c.query(`SELECT pg_advisory_xact_lock_shared(${RULES_LOCK})`);
    const { rows } = await c.query<{ f: string | null }>(
      'SELECT applied_fingerprint AS f FROM calendar_state',
    );
    const f = rows[0]?.f ?? null;
    if (f === null) throw new Error('no working-day calendar has been applied yet');
    if (this.applied?.fingerprint !== f) {
      const r = await c.query<{ years: YearCalendar[] }>(
        'SELECT applied_calendar AS years FROM calendar_state',
      );
      this.applied = { fingerprint: f, calendar: createCalendar(r.rows[0].years) };
    }
    return this.applied.calendar;
  }

  /**
   * The projector's check on every tick: applies the calendar in force when it is not the
   * applied one (an upload not yet applied, or this instance's package data differs from what
   * was applied). One small query when nothing changed. Null when nothing was to do.
   */
  async applyIfChanged(projector: ComplianceProjector): Promise<CalendarApplyResult | null> {
    const applied = await this.applyCalendarIfChanged(projector);
    await this.policies?.applyIfChanged(projector);
    return applied;
  }

  private async applyCalendarIfChanged(
    projector: ComplianceProjector,
  ): Promise<CalendarApplyResult | null> {
    const { rows } = await this.pool.query<{
      version: string;
      applied_version: string | null;
      applied_fingerprint: string | null;
    }>('SELECT version::text, applied_version::text, applied_fingerprint FROM calendar_state');
    const s = rows[0];
    if (s.applied_version === s.version && s.applied_fingerprint !== null) {
      const f = this.inForceAt?.version === s.version ? this.inForceAt : await this.inForce();
      if (f.fingerprint === s.applied_fingerprint) return null;
    }
    return this.apply(projector);
  }

  /**
   * Applies the calendar in force, in one transaction: under the calendar lock (exclusive;
   * `wait` false: answers `busy` instead of waiting), rewrites business_days, records the
   * calendar as applied, and recomputes in the live read models every contract with an
   * obligation or invoice starting or due in a year whose working days changed (a period
   * depends only on the days between its start and its deadline, and spans at most two
   * years). Before the first apply the stored deadlines are assumed to come from the package
   * data, so the uploaded years are recomputed. Throws (and rolls back) on any failure.
   */
  apply(
    projector?: ComplianceProjector,
    opts: { wait?: boolean } = {},
  ): Promise<CalendarApplyResult> {
    return withTransaction(this.pool, async (c) => {
      if (!(await lockRulesExclusively(c, opts.wait === true)))
        return { outcome: 'busy', version: null, years: [], contracts: 0 };
      const { rows } = await c.query<{
        version: string;
        applied_version: string | null;
        applied_fingerprint: string | null;
        applied_calendar: YearCalendar[] | null;
        filled: boolean;
      }>(
        `SELECT version::text, applied_version::text, applied_fingerprint, applied_calendar,
                EXISTS (SELECT 1 FROM business_days) AS filled
           FROM calendar_state FOR UPDATE`,
      );
      const s = rows[0];
      // read after the row lock: every upload committed before it is included
      const next = await this.inForce(c);
      const sameDays = s.applied_fingerprint === next.fingerprint;
      if (sameDays && s.applied_version === s.version && s.filled)
        return { outcome: 'up-to-date', version: s.version, years: [], contracts: 0 };
      if (sameDays) {
        if (!s.filled) await this.writeTable(c, next.calendar);
        await c.query('UPDATE calendar_state SET applied_version = version, applied_at = now()');
        return { outcome: 'applied', version: s.version, years: [], contracts: 0 };
      }
      const before = s.applied_calendar ?? build(builtInYears()).years;
      const years = changedYears(before, next.years);
      await this.writeTable(c, next.calendar);
      await c.query(
        `UPDATE calendar_state SET applied_version = version, applied_fingerprint = $1,
                applied_calendar = $2::jsonb, applied_at = now()`,
        [next.fingerprint, JSON.stringify(next.years)],
      );
      // the recompute below reads the applied calendar through forTransaction: this one
      this.applied = { fingerprint: next.fingerprint, calendar: next.calendar };
      const ids = years.length > 0 ? await affectedContracts(c, LIVE_SCHEMA, years) : [];
      if (ids.length > 0 && !projector)
        throw new Error(`the calendar change needs ${ids.length} contracts recomputed`);
      for (let i = 0; i < ids.length; i += 1000)
        await projector!.recompute(c, LIVE_SCHEMA, ids.slice(i, i + 1000));
      return { outcome: 'applied', version: s.version, years, contracts: ids.length };
    });
  }
}

/** Contracts with an obligation or invoice period starting or ending in one of `years`. */
async function affectedContracts(c: Sql, schema: string, years: number[]): Promise<string[]> {
  const { rows } = await c.query<{ contract_id: string }>(
    `SELECT contract_id FROM "${schema}".obligations
      WHERE extract(year FROM started_on)::int = ANY($1::int[])
         OR extract(year FROM deadline)::int = ANY($1::int[])
     UNION
     SELECT contract_id FROM "${schema}".invoices
      WHERE extract(year FROM started_on)::int = ANY($1::int[])
         OR extract(year FROM due_on)::int = ANY($1::int[])`,
    [years],
  );
  return rows.map((r) => r.contract_id);
}

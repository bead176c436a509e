import { Controller, Get, Header, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { todayInShanghai } from '@app/domain';
import {
  GetOverviewQuery,
  GetPlatformLagQuery,
  GetRegionsQuery,
  GetTrendsQuery,
  type OverviewView,
  type PlatformLagView,
  type RegionsView,
  type TrendsView,
} from '@app/projections';
import { ErrorCodes } from '@app/contracts';
import {
  Clock,
  Principal,
  ValidationFailed,
  Roles,
  Scope,
  TokenExpiry,
  type PrincipalScope,
  type Role,
} from '@app/platform';
import { NoQuery } from '../compliance/query-params.dto';
import { OverviewQuery, PlatformLagQuery, RegionsQuery, TrendsQuery } from './query-params.dto';

/** The longest period of the platform lag: a quarter (~3 s at 3 M events in it; docs/decisions.md). */
export const MAX_LAG_DAYS = 92;

const DAY_MS = 86_400_000;
const dayNumber = (d: string) => Date.parse(`${d}T00:00:00Z`) / DAY_MS;
const dateOf = (n: number) => new Date(n * DAY_MS).toISOString().slice(0, 10);

const COUNTS = { met: 40, late: 6, overdue: 9, pending: 5, exempted: 1, cancelled: 2 };

/** The longest trend: 10 years of months. */
export const MAX_TREND_MONTHS = 120;

const monthIndex = (m: string) => Number(m.slice(0, 4)) * 12 + Number(m.slice(5, 7)) - 1;
const monthOf = (i: number) => `${Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}`;

/** `GET /v1/me`: who is signed in and what they may see. Never the token. */
export interface MeView {
  role: Role;
  /** the token's `sub`; null when it has none */
  subject: string | null;
  platformId?: string;
  creditCode?: string;
  /** inspector limited to these region-code prefixes; absent = every region */
  regions?: string[];
  /** the token's expiry, seconds since the epoch (JWT `exp`) */
  exp: number;
  /** the same instant, ISO-8601 UTC */
  expiresAt: string;
}

/** The read APIs of the web dashboard (SPEC §9) beside those of §4. */
@ApiTags('dashboard')
@Controller('v1')
export class DashboardController {
  constructor(
    private readonly queries: QueryBus,
    private readonly clock: Clock,
  ) {}

  @Get('me')
  @Roles('platform', 'inspector', 'supplier', 'admin')
  @Header('cache-control', 'no-store')
  @ApiOperation({
    summary: 'The signed-in caller: role, subject, scope (platformId, creditCode, regions), expiry',
  })
  @ApiOkResponse({
    schema: {
      example: {
        role: 'inspector',
        subject: 'inspector-42',
        regions: ['500102'],
        exp: 1767225600,
        expiresAt: '2026-01-01T00:00:00.000Z',
      },
    },
  })
  me(
    @Query() _q: NoQuery,
    @Principal() p: Principal,
    @TokenExpiry() exp: number | undefined,
  ): MeView {
    // exp is required by the verifier: every authenticated request has one
    const e = exp ?? 0;
    return {
      role: p.role,
      subject: p.sub ?? null,
      ...(p.platformId !== undefined ? { platformId: p.platformId } : {}),
      ...(p.creditCode !== undefined ? { creditCode: p.creditCode } : {}),
      ...(p.regions !== undefined ? { regions: [...p.regions] } : {}),
      exp: e,
      expiresAt: new Date(e * 1000).toISOString(),
    };
  }

  @Get('overview')
  @Roles('inspector')
  @ApiOkResponse({
    description: 'See docs/dashboard-api.md',
    schema: {
      example: {
        asOf: '2021-10-20',
        region: null,
        totals: {
          counts: COUNTS,
          total: 63,
          onTimeRate: 0.7272,
          open: 14,
          overdue: 9,
          violations: 15,
          units: 7,
        },
        rules: [
          {
            rule: 'signing',
            counts: COUNTS,
            total: 63,
            onTimeRate: 0.7272,
            open: 14,
            overdue: 9,
            violations: 15,
          },
        ],
        worstUnits: [
          {
            unitCode: 'U-500230-003',
            unitName: '丰都县卫生健康委员会',
            region: '500230',
            onTimeRate: 0.3333,
            violations: 4,
            counts: COUNTS,
          },
        ],
        smeLateInterest: '550.00',
      },
    },
  })
  @ApiOperation({
    summary:
      'Per rule and in all: counts by status, on-time rate, open and overdue; the worst units',
  })
  overview(
    @Query() q: OverviewQuery,
    @Scope() scope: PrincipalScope | undefined,
  ): Promise<OverviewView> {
    return this.queries.execute(new GetOverviewQuery(this.asOf(q), q.region, scope));
  }

  @Get('trends')
  @Roles('inspector')
  @ApiOkResponse({
    description: 'See docs/dashboard-api.md',
    schema: {
      example: {
        asOf: '2021-12-31',
        from: '2021-09',
        to: '2021-10',
        region: '500102',
        unit: null,
        rule: null,
        months: [
          { month: '2021-09', counts: COUNTS, total: 63, onTimeRate: 0.7272, violations: 15 },
          { month: '2021-10', counts: COUNTS, total: 63, onTimeRate: 0.7272, violations: 15 },
        ],
      },
    },
  })
  @ApiOperation({
    summary:
      'Per month of deadline (YYYY-MM, Asia/Shanghai): counts by status as of asOf, on-time rate',
    description:
      '`from` / `to` are months, inclusive; default the 12 months ending with the month of ' +
      '`asOf`. At most 120 months: longer is 400 REQUEST.RANGE_TOO_LONG; `from` after `to` ' +
      'is 400 REQUEST.VALIDATION_FAILED.',
  })
  trends(@Query() q: TrendsQuery, @Scope() scope: PrincipalScope | undefined): Promise<TrendsView> {
    const asOf = this.asOf(q);
    const to = q.to ?? asOf.slice(0, 7);
    const from = q.from ?? monthOf(monthIndex(to) - 11);
    if (from > to)
      throw new ValidationFailed('from must not be after to', [
        { path: 'from', message: 'from must not be after to' },
      ]);
    const n = monthIndex(to) - monthIndex(from) + 1;
    if (n > MAX_TREND_MONTHS)
      throw new ValidationFailed(
        `a trend covers at most ${MAX_TREND_MONTHS} months; ${from}..${to} is ${n}`,
        [{ path: 'from', message: `at most ${MAX_TREND_MONTHS} months` }],
        ErrorCodes.RANGE_TOO_LONG,
      );
    return this.queries.execute(
      new GetTrendsQuery(asOf, from, to, { region: q.region, unit: q.unit, rule: q.rule }, scope),
    );
  }

  @Get('regions')
  @Roles('inspector')
  @ApiOkResponse({
    description: 'See docs/dashboard-api.md',
    schema: {
      example: {
        asOf: '2021-12-31',
        rule: null,
        items: [
          {
            region: '500102',
            units: 3,
            counts: COUNTS,
            total: 63,
            onTimeRate: 0.7272,
            open: 14,
            overdue: 9,
            violations: 15,
            rules: [
              {
                rule: 'signing',
                counts: COUNTS,
                total: 63,
                onTimeRate: 0.7272,
                open: 14,
                overdue: 9,
                violations: 15,
              },
            ],
          },
        ],
      },
    },
  })
  @ApiOperation({
    summary: 'Per region code and per rule: counts by status, on-time rate (the heat map)',
  })
  regions(
    @Query() q: RegionsQuery,
    @Scope() scope: PrincipalScope | undefined,
  ): Promise<RegionsView> {
    return this.queries.execute(new GetRegionsQuery(this.asOf(q), q.rule, scope));
  }

  @Get('platforms/lag')
  @Roles('inspector')
  @ApiOkResponse({
    description: 'See docs/dashboard-api.md',
    schema: {
      example: {
        from: '2026-11-01',
        to: '2026-11-30',
        items: [
          {
            platformId: 'gov-cq-fl',
            type: 'AwardNoticeIssued',
            events: 1520,
            medianSeconds: 14400.5,
            p95Seconds: 86012.25,
            maxSeconds: 259100,
            medianHours: 4,
            p95Hours: 23.89,
          },
        ],
      },
    },
  })
  @ApiOperation({
    summary:
      'Per platform and event type: how long after occurredAt events were recorded (median, p95)',
    description:
      'Events recorded from `from` to `to` (business dates, inclusive; default the 30 days ' +
      'ending today). At most 92 days: longer is 400 REQUEST.RANGE_TOO_LONG. A ' +
      'region-limited inspector counts the events of contracts in its regions.',
  })
  platformLag(
    @Query() q: PlatformLagQuery,
    @Scope() scope: PrincipalScope | undefined,
  ): Promise<PlatformLagView> {
    const to = q.to ?? todayInShanghai(this.clock.now());
    const from = q.from ?? dateOf(dayNumber(to) - 29);
    if (from > to)
      throw new ValidationFailed('from must not be after to', [
        { path: 'from', message: 'from must not be after to' },
      ]);
    const days = dayNumber(to) - dayNumber(from) + 1;
    if (days > MAX_LAG_DAYS)
      throw new ValidationFailed(
        `the lag covers at most ${MAX_LAG_DAYS} days; ${from}..${to} is ${days}`,
        [{ path: 'from', message: `at most ${MAX_LAG_DAYS} days` }],
        ErrorCodes.RANGE_TOO_LONG,
      );
    return this.queries.execute(new GetPlatformLagQuery(from, to, scope));
  }

  private asOf(q: { asOf?: string }): string {
    return q.asOf ?? todayInShanghai(this.clock.now());
  }
}

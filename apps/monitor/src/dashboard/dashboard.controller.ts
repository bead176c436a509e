import { Controller, Get, Header, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { todayInShanghai } from '@app/domain';
import { GetOverviewQuery, type OverviewView } from '@app/projections';
import {
  Clock,
  Principal,
  Roles,
  Scope,
  TokenExpiry,
  type PrincipalScope,
  type Role,
} from '@app/platform';
import { NoQuery } from '../compliance/query-params.dto';
import { OverviewQuery } from './query-params.dto';

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
  @ApiOperation({
    summary:
      'Per rule and in all: counts by status, on-time rate, open and overdue; the worst units',
  })
  overview(
    @Query() q: OverviewQuery,
    @Scope() scope: PrincipalScope | undefined,
  ): Promise<OverviewView> {
    return this.queries.execute(
      new GetOverviewQuery(q.asOf ?? todayInShanghai(this.clock.now()), q.region, scope),
    );
  }
}

import { Controller, Get, Inject, Param, Query, Req, Res } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOperation, ApiParam, ApiProduces, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsOptional, IsString, Matches } from 'class-validator';
import { CONTRACT_ID_PATTERN, ErrorCodes } from '@app/contracts';
import { todayInShanghai } from '@app/domain';
import { OCDS_EXPORT_VERSION, compileRelease, stageTag } from '@app/ocds';
import {
  APP_CONFIG,
  Clock,
  NotFoundError,
  Roles,
  Scope,
  type AppConfig,
  type PrincipalScope,
} from '@app/platform';
import { OcdsContractsQuery, type OcdsContractData } from '@app/projections';
import type { Request, Response } from 'express';
import { IsBusinessDate, NoQuery, assertPeriod } from '../../compliance/query-params.dto';

export class OcdsReleasesQuery {
  @ApiPropertyOptional({ description: 'purchasing unit code' })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9._:/-]{1,64}$/)
  unit?: string;

  @ApiPropertyOptional({ description: 'award notice (else signing) on or after, YYYY-MM-DD' })
  @IsOptional()
  @IsBusinessDate()
  from?: string;

  @ApiPropertyOptional({ description: 'award notice (else signing) on or before, YYYY-MM-DD' })
  @IsOptional()
  @IsBusinessDate()
  to?: string;
}

/** Contracts read per query while streaming JSON Lines. */
const PAGE = 200;

@ApiTags('ocds')
@Controller('v1/ocds')
export class OcdsExportController {
  constructor(
    private readonly queries: QueryBus,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get('contracts/:contractId')
  @Roles('inspector', 'supplier')
  @ApiOperation({
    summary: 'A contract as an OCDS 1.1 record package: one record with its compiled release',
    description:
      'The compiled release holds every stored fact that is not retracted (each with its event id, ' +
      'our extension) and the compliance results as of today (Asia/Shanghai) under `compliance`. ' +
      'Valid against the OCDS 1.1 release schema merged with our extension (docs/ocds.md).',
  })
  @ApiParam({ name: 'contractId', example: 'CQ-FL-2021-000123' })
  async contract(
    @Param('contractId') contractId: string,
    @Query() _q: NoQuery,
    @Scope() scope: PrincipalScope | undefined,
    @Req() req: Request,
  ) {
    if (!CONTRACT_ID_PATTERN.test(contractId))
      throw new NotFoundError(`contract ${contractId} not found`, ErrorCodes.CONTRACT_NOT_FOUND);
    const asOf = todayInShanghai(this.clock.now());
    const page = await this.queries.execute(
      new OcdsContractsQuery({ contractId }, asOf, scope, null, 1),
    );
    const data = page.items[0];
    if (!data)
      throw new NotFoundError(`contract ${contractId} not found`, ErrorCodes.CONTRACT_NOT_FOUND);
    const compiled = this.release(data);
    const base = baseUrl(req);
    const { compliance: _compliance, ...facts } = compiled;
    return {
      uri: `${base}${req.originalUrl}`,
      version: OCDS_EXPORT_VERSION,
      extensions: [`${base}/ocds/extension/extension.json`],
      publisher: { name: 'Procurement contract compliance monitor' },
      publishedDate: new Date(this.clock.now()).toISOString(),
      records: [
        {
          ocid: compiled.ocid,
          // the one release a record must list: the facts, tagged by the contract's stage
          releases: [{ ...facts, tag: [stageTag(compiled)] }],
          compiledRelease: compiled,
        },
      ],
    };
  }

  @Get('releases')
  @Roles('inspector')
  @ApiProduces('application/x-ndjson')
  @ApiOperation({
    summary: "Compiled releases as JSON Lines (streamed), one per contract in the caller's scope",
    description:
      "The input of OCP's cardinal. `unit` filters on the purchasing unit, `from`/`to` on the " +
      'award notice date (else the signing date). Compliance results as of today (Asia/Shanghai).',
  })
  async releases(
    @Query() q: OcdsReleasesQuery,
    @Scope() scope: PrincipalScope | undefined,
    @Res() res: Response,
  ): Promise<void> {
    assertPeriod(q);
    const asOf = todayInShanghai(this.clock.now());
    const filter = { unit: q.unit, from: q.from, to: q.to };
    let after: string | null = null;
    let page = await this.queries.execute(new OcdsContractsQuery(filter, asOf, scope, after, PAGE));
    res.status(200);
    res.setHeader('content-type', 'application/x-ndjson; charset=utf-8');
    res.setHeader('content-disposition', `attachment; filename="releases-${asOf}.jsonl"`);
    for (;;) {
      const text = page.items.map((c) => `${JSON.stringify(this.release(c))}\n`).join('');
      if (text && !res.write(text)) await new Promise((r) => res.once('drain', r));
      if (page.next === null) break;
      after = page.next;
      page = await this.queries.execute(new OcdsContractsQuery(filter, asOf, scope, after, PAGE));
    }
    res.end();
  }

  private release(c: OcdsContractData) {
    return compileRelease(c, { ocidPrefix: this.config.ocdsOcidPrefix });
  }
}

/** The service's own origin as the caller reached it, for the package's URIs. */
function baseUrl(req: Request): string {
  return `${req.protocol}://${req.get('host') ?? '127.0.0.1'}`;
}

import { Controller, Get, Header, Inject, Param, Query, Req, Res } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { todayInShanghai } from '@app/domain';
import {
  GetContractQuery,
  GetSupplierPaymentsQuery,
  GetUnitComplianceQuery,
  ListUnitsQuery,
  ListViolationsQuery,
  allViolations,
} from '@app/projections';
import { Clock, NotFoundError, ReadPool, Roles, Scope, type PrincipalScope } from '@app/platform';
import type { Request, Response } from 'express';
import {
  AsOfQuery,
  assertPeriod,
  ComplianceQuery,
  UnitsQuery,
  ViolationsQuery,
} from './query-params.dto';
import { isValidCreditCode, CONTRACT_ID_PATTERN, ErrorCodes } from '@app/contracts';
import { VIOLATION_XLSX_COLUMNS, violationsCsvHeader, violationsCsvRows } from './violations-csv';
import { writeXlsx, XLSX_MEDIA_TYPE } from './xlsx';

@ApiTags('compliance')
@Controller('v1')
export class ComplianceController {
  constructor(
    private readonly queries: QueryBus,
    private readonly clock: Clock,
    @Inject(ReadPool) private readonly db: ReadPool,
  ) {}

  private asOf(q: { asOf?: string }): string {
    return q.asOf ?? todayInShanghai(this.clock.now());
  }

  @Get('units')
  @Roles('inspector')
  @ApiOperation({ summary: 'Purchasing units ranked, with per-rule counts and on-time rate' })
  units(@Query() q: UnitsQuery, @Scope() scope: PrincipalScope | undefined) {
    return this.queries.execute(
      new ListUnitsQuery(
        this.asOf(q),
        q.region,
        q.rule,
        q.sort ?? 'onTimeRate',
        q.page ?? 1,
        q.pageSize ?? 50,
        scope,
      ),
    );
  }

  @Get('units/:unitCode/compliance')
  @Roles('inspector')
  @ApiOperation({
    summary:
      'Per rule: counts by status, on-time rate, mean and median delay; prepayment SME / non-SME',
  })
  compliance(
    @Param('unitCode') unitCode: string,
    @Query() q: ComplianceQuery,
    @Scope() scope: PrincipalScope | undefined,
  ) {
    assertPeriod(q);
    return this.queries.execute(
      new GetUnitComplianceQuery(unitCode, this.asOf(q), q.from, q.to, scope),
    );
  }

  @Get('violations')
  @Roles('inspector')
  @ApiOperation({
    summary:
      'Violations (late or overdue), newest deadline first; Accept: text/csv or .xlsx exports them all',
    description:
      'The exports hold every violation the filters give (not one page), in the order of the ' +
      'JSON pages, with Chinese column headers. `Accept: ' +
      XLSX_MEDIA_TYPE +
      '` answers one .xlsx sheet; more than 1,048,575 rows is 400 EXPORT.TOO_LARGE.',
  })
  @ApiProduces('application/json', 'text/csv', XLSX_MEDIA_TYPE)
  @ApiOkResponse({
    description: 'a page of violations (JSON), or all of them as CSV or .xlsx, by Accept',
    content: {
      'application/json': { schema: { type: 'object' } },
      'text/csv': { schema: { type: 'string' } },
      [XLSX_MEDIA_TYPE]: { schema: { type: 'string', format: 'binary' } },
    },
  })
  async violations(
    @Query() q: ViolationsQuery,
    @Scope() scope: PrincipalScope | undefined,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    assertPeriod(q);
    const db = this.db;
    const filter = {
      asOf: this.asOf(q),
      unit: q.unit,
      rule: q.rule,
      status: q.status,
      from: q.from,
      to: q.to,
    };
    const as = req.accepts(['application/json', 'text/csv', XLSX_MEDIA_TYPE]);
    if (as === XLSX_MEDIA_TYPE) {
      const xlsx = await writeXlsx(
        `违规清单 ${filter.asOf}`,
        VIOLATION_XLSX_COLUMNS,
        (async function* () {
          for await (const chunk of allViolations(db, filter, scope)) yield* chunk;
        })(),
      );
      res.status(200);
      res.setHeader('content-type', XLSX_MEDIA_TYPE);
      res.setHeader('content-disposition', `attachment; filename="violations-${filter.asOf}.xlsx"`);
      res.end(xlsx);
      return;
    }
    if (as === 'text/csv') {
      res.status(200);
      res.setHeader('content-type', 'text/csv; charset=utf-8');
      res.setHeader('content-disposition', `attachment; filename="violations-${filter.asOf}.csv"`);
      res.write('\uFEFF' + violationsCsvHeader());
      for await (const chunk of allViolations(this.db, filter, scope)) {
        if (!res.write(violationsCsvRows(chunk))) await new Promise((r) => res.once('drain', r));
      }
      res.end();
      return;
    }
    return this.queries.execute(
      new ListViolationsQuery(filter, q.page ?? 1, q.pageSize ?? 50, scope),
    );
  }

  @Get('contracts/:contractId')
  @Roles('inspector', 'supplier')
  @ApiOperation({
    summary:
      'A contract as of a date: obligations with deadlines, status, delay; prepayment; data quality',
  })
  contract(
    @Param('contractId') contractId: string,
    @Query() q: AsOfQuery,
    @Scope() scope: PrincipalScope | undefined,
  ) {
    if (!CONTRACT_ID_PATTERN.test(contractId))
      throw new NotFoundError(`contract ${contractId} not found`, ErrorCodes.CONTRACT_NOT_FOUND);
    return this.queries.execute(new GetContractQuery(contractId, this.asOf(q), scope));
  }

  @Get('suppliers/:creditCode/payments')
  @Roles('inspector', 'supplier')
  @Header('cache-control', 'no-store')
  @ApiOperation({
    summary:
      "A supplier's invoices with due dates, paid amounts and status; prepayment entitled vs received",
  })
  payments(
    @Param('creditCode') creditCode: string,
    @Query() q: AsOfQuery,
    @Scope() scope: PrincipalScope | undefined,
  ) {
    if (!isValidCreditCode(creditCode))
      throw new NotFoundError(`supplier ${creditCode} not found`, ErrorCodes.SUPPLIER_NOT_FOUND);
    return this.queries.execute(new GetSupplierPaymentsQuery(creditCode, this.asOf(q), scope));
  }
}

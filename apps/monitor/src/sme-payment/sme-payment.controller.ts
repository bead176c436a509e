import { Controller, Get, Param, Query, Req, Res } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import {
  PaymentPerformanceQuery,
  SmeOverdueReportQuery,
  type SmeOverdueItem,
} from '@app/projections';
import { Roles, Scope, ValidationFailed, type PrincipalScope } from '@app/platform';
import type { Request, Response } from 'express';
import { csvCell } from '../compliance/violations-csv';
import { writeXlsx, XLSX_MEDIA_TYPE, type XlsxColumn } from '../compliance/xlsx';
import { PaymentPerformanceParams, SmeOverdueParams } from './sme-payment.dto';

/** The disclosure's columns, for CSV and Excel alike (Chinese first, then the JSON field). */
const OVERDUE_COLUMNS: XlsxColumn<SmeOverdueItem>[] = [
  { header: '采购单位代码 unitCode', value: (r) => r.unitCode, width: 24 },
  { header: '采购单位名称 unitName', value: (r) => r.unitName, width: 36 },
  { header: '区划 region', value: (r) => r.region, width: 10 },
  { header: '逾期未支付合同数 contracts', value: (r) => r.contracts, width: 14 },
  { header: '逾期未支付金额（元） unpaid', value: (r) => r.unpaid, width: 18 },
];

/**
 * SME payment (SPEC §7, 保障中小企业款项支付条例): the annual disclosure of art. 18 and a unit's
 * payment performance. The late interest itself is on the contract, supplier and unit answers.
 */
@ApiTags('sme-payment')
@Controller('v1')
export class SmePaymentController {
  constructor(private readonly queries: QueryBus) {}

  @Get('reports/sme-overdue')
  @Roles('inspector')
  @ApiOperation({
    summary:
      'Annual SME disclosure (art. 18): per unit, contracts with SME payments overdue on 31 December and the amount unpaid; Accept: text/csv or .xlsx exports it',
  })
  @ApiProduces('application/json', 'text/csv', XLSX_MEDIA_TYPE)
  async smeOverdue(
    @Query() q: SmeOverdueParams,
    @Scope() scope: PrincipalScope | undefined,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    const report = await this.queries.execute(
      new SmeOverdueReportQuery(q.year, q.region, q.unit, scope),
    );
    const as = req.accepts(['application/json', 'text/csv', XLSX_MEDIA_TYPE]);
    const name = `sme-overdue-${q.year}`;
    if (as === 'text/csv') {
      res.setHeader('content-type', 'text/csv; charset=utf-8');
      res.setHeader('content-disposition', `attachment; filename="${name}.csv"`);
      const lines = [OVERDUE_COLUMNS.map((c) => csvCell(c.header)).join(',')];
      for (const r of report.items)
        lines.push(OVERDUE_COLUMNS.map((c) => csvCell(c.value(r))).join(','));
      return '\uFEFF' + lines.join('\r\n') + '\r\n';
    }
    if (as === XLSX_MEDIA_TYPE) {
      const xlsx = await writeXlsx(
        `${q.year}年逾期未支付中小企业款项`,
        OVERDUE_COLUMNS,
        report.items,
      );
      res.status(200);
      res.setHeader('content-type', XLSX_MEDIA_TYPE);
      res.setHeader('content-disposition', `attachment; filename="${name}.xlsx"`);
      res.end(xlsx);
      return;
    }
    return report;
  }

  @Get('units/:unitCode/payment-performance')
  @Roles('inspector')
  @ApiOperation({
    summary:
      "A unit's payment performance over a period: invoices paid in full in it, mean days to pay, shares within 30 / 31-60 / 61+ days, share paid late, amount-weighted delay and timeliness index",
  })
  paymentPerformance(
    @Param('unitCode') unitCode: string,
    @Query() q: PaymentPerformanceParams,
    @Scope() scope: PrincipalScope | undefined,
  ) {
    if (q.from > q.to)
      throw new ValidationFailed('from must not be after to', [
        { path: 'from', message: 'from must not be after to' },
      ]);
    return this.queries.execute(new PaymentPerformanceQuery(unitCode, q.from, q.to, scope));
  }
}

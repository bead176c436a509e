import { Controller, Get, Param, Query, Req } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { CONTRACT_ID_PATTERN } from '@app/contracts';
import { PgEventStore } from '@app/event-store';
import { NotFoundError, Roles } from '@app/platform';
import type { Request } from 'express';
import { assertContractVisible, scopeOf } from '../compliance/access';
import { NoQuery } from '../compliance/query-params.dto';
import { GetContractEventsQuery } from './get-contract-events/get-contract-events.query';

@ApiTags('contracts')
@Controller('v1/contracts')
export class ContractEventsController {
  constructor(
    private readonly queries: QueryBus,
    private readonly store: PgEventStore,
  ) {}

  @Get(':contractId/events')
  @Roles('inspector', 'supplier')
  @ApiOperation({ summary: 'The stored history of a contract, with business and recorded times' })
  @ApiParam({ name: 'contractId', example: 'CQ-FL-2021-000123' })
  async events(
    @Param('contractId') contractId: string,
    // no query parameters: the global ValidationPipe refuses any (REQUEST.VALIDATION_FAILED)
    @Query() _q: NoQuery,
    @Req() req: Request,
  ) {
    if (!CONTRACT_ID_PATTERN.test(contractId))
      throw new NotFoundError(`contract ${contractId} not found`, 'CONTRACT.NOT_FOUND');
    // the event store knows no suppliers or regions: scoped callers are checked on the read model
    const scope = scopeOf(req);
    await assertContractVisible(this.store, contractId, scope);
    const view = await this.queries.execute(new GetContractEventsQuery(contractId));
    if (scope?.supplierCreditCode === undefined) return view;
    // A supplier sees the facts, not who inside the bureau or platform recorded them.
    return {
      ...view,
      events: view.events.map((e) => ({
        ...e,
        source: { kind: (e.source as { kind?: string })?.kind ?? null },
      })),
    };
  }
}

import { Controller, Get, Param, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { CONTRACT_ID_PATTERN, ErrorCodes } from '@app/contracts';
import { NotFoundError, Roles, Scope, type PrincipalScope } from '@app/platform';
import { GetContractEventsQuery } from '@app/projections';
import { assertContractVisible } from '../compliance/access';
import { NoQuery } from '../compliance/query-params.dto';

@ApiTags('contracts')
@Controller('v1/contracts')
export class ContractEventsController {
  constructor(private readonly queries: QueryBus) {}

  @Get(':contractId/events')
  @Roles('inspector', 'supplier')
  @ApiOperation({ summary: 'The stored history of a contract, with business and recorded times' })
  @ApiParam({ name: 'contractId', example: 'CQ-FL-2021-000123' })
  async events(
    @Param('contractId') contractId: string,
    // no query parameters: the global ValidationPipe refuses any (REQUEST.VALIDATION_FAILED)
    @Query() _q: NoQuery,
    @Scope() scope: PrincipalScope | undefined,
  ) {
    if (!CONTRACT_ID_PATTERN.test(contractId))
      throw new NotFoundError(`contract ${contractId} not found`, ErrorCodes.CONTRACT_NOT_FOUND);
    // the event store knows no suppliers or regions: scoped callers are checked on the read model
    await assertContractVisible(this.queries, contractId, scope);
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

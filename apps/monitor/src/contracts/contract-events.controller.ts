import { Controller, Get, Param } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { CONTRACT_ID_PATTERN } from '@app/contracts';
import { NotFoundError } from '@app/platform';
import { GetContractEventsQuery } from './get-contract-events/get-contract-events.query';

@ApiTags('contracts')
@Controller('v1/contracts')
export class ContractEventsController {
  constructor(private readonly queries: QueryBus) {}

  @Get(':contractId/events')
  @ApiOperation({ summary: 'The stored history of a contract, with business and recorded times' })
  @ApiParam({ name: 'contractId', example: 'CQ-FL-2021-000123' })
  async events(@Param('contractId') contractId: string) {
    if (!CONTRACT_ID_PATTERN.test(contractId)) throw new NotFoundError(`contract ${contractId} not found`, 'CONTRACT.NOT_FOUND');
    return this.queries.execute(new GetContractEventsQuery(contractId));
  }
}

import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { randomUUID } from 'node:crypto';
import { CONTRACT_ID_PATTERN, ErrorCodes } from '@app/contracts';
import {
  AppError,
  Clock,
  NotFoundError,
  Principal,
  Roles,
  Scope,
  type PrincipalScope,
} from '@app/platform';
import { ObligationExistsQuery } from '@app/projections';
import {
  RecordEventsCommand,
  rejectionError,
} from '../../ingestion/record-events/record-events.command';
import { RecordExemptionDto } from './exemption.dto';

@ApiTags('contracts')
@Controller('v1/contracts')
export class ExemptionsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
    private readonly clock: Clock,
  ) {}

  @Post(':contractId/exemptions')
  @Roles('inspector')
  @HttpCode(201)
  @ApiOperation({
    summary: 'Exempt an obligation for a justified reason (records ObligationExempted)',
  })
  async exempt(
    @Param('contractId') contractId: string,
    @Body() body: RecordExemptionDto,
    @Principal() user: Principal | undefined,
    @Scope() scope: PrincipalScope | undefined,
  ) {
    const key = body.key ?? body.rule;
    const notFound = () =>
      new NotFoundError(
        `contract ${contractId} has no obligation ${key}`,
        ErrorCodes.OBLIGATION_NOT_FOUND,
      );
    if (!CONTRACT_ID_PATTERN.test(contractId)) throw notFound();
    if (key !== body.rule && !key.startsWith(`${body.rule}:`)) {
      throw new AppError(
        ErrorCodes.VALIDATION_FAILED,
        `key ${key} does not belong to rule ${body.rule}`,
        400,
        [{ path: 'key', message: `must be "${body.rule}" or start with "${body.rule}:"` }],
      );
    }
    if (!(await this.queries.execute(new ObligationExistsQuery(contractId, key, scope))))
      throw notFound();
    const eventId = randomUUID();
    const [outcome] = await this.commands.execute(
      new RecordEventsCommand(
        [
          {
            raw: {
              eventId,
              type: 'ObligationExempted',
              contractId,
              occurredAt: new Date(this.clock.now()).toISOString(),
              schemaVersion: 1,
              data: { rule: body.rule, key, reason: body.reason },
            },
            source: { kind: 'inspector', ...(user?.sub ? { principal: user.sub } : {}) },
          },
        ],
        'inspector',
      ),
    );
    if (outcome.status === 'rejected') throw rejectionError(outcome);
    return { eventId, status: outcome.status, contractId, rule: body.rule, key };
  }
}

import { Body, Controller, HttpCode, Param, Post, Req } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { randomUUID } from 'node:crypto';
import { CONTRACT_ID_PATTERN } from '@app/contracts';
import { PgEventStore } from '@app/event-store';
import { AppError, Clock, NotFoundError, Roles } from '@app/platform';
import { LIVE_SCHEMA } from '@app/projections';
import type { Request } from 'express';
import {
  RecordEventsCommand,
  rejectionError,
} from '../../ingestion/record-events/record-events.command';
import { scopeSql } from '@app/projections';
import { scopeOf } from '../../compliance/access';
import { RecordExemptionDto } from './exemption.dto';

@ApiTags('contracts')
@Controller('v1/contracts')
export class ExemptionsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly store: PgEventStore,
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
    @Req() req: Request,
  ) {
    const key = body.key ?? body.rule;
    const notFound = () =>
      new NotFoundError(`contract ${contractId} has no obligation ${key}`, 'OBLIGATION.NOT_FOUND');
    if (!CONTRACT_ID_PATTERN.test(contractId)) throw notFound();
    if (key !== body.rule && !key.startsWith(`${body.rule}:`)) {
      throw new AppError(
        'REQUEST.VALIDATION_FAILED',
        `key ${key} does not belong to rule ${body.rule}`,
        400,
        [{ path: 'key', message: `must be "${body.rule}" or start with "${body.rule}:"` }],
      );
    }
    const values: unknown[] = [contractId, key];
    const scope = scopeSql(scopeOf(req), 'c', values);
    const { rows } = await this.store.pool.query(
      `SELECT 1 FROM "${LIVE_SCHEMA}".contracts c
        WHERE c.contract_id = $1 AND ${scope}
          AND (EXISTS (SELECT 1 FROM "${LIVE_SCHEMA}".obligations o WHERE o.contract_id = c.contract_id AND o.key = $2)
               OR ($2 = 'prepayment' AND c.prep_started_on IS NOT NULL))`,
      values,
    );
    if (rows.length === 0) throw notFound();
    const user = (req as Request & { user?: { sub?: string } }).user;
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

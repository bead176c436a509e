import { Controller, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import {
  ApiBody,
  ApiExtraModels,
  ApiOperation,
  ApiResponse,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import { ErrorCodes, EventEnvelopeDto, MAX_EVENTS_PER_REQUEST } from '@app/contracts';
import {
  APP_CONFIG,
  AppError,
  RateLimit,
  Roles,
  correlationIdOf,
  Principal,
  type AppConfig,
} from '@app/platform';
import type { Request, Response } from 'express';
import { KeepRejectedRequestCommand } from '../keep-rejected-request/keep-rejected-request.command';
import { RecordEventsCommand, outcomeResult, rejectionError } from './record-events.command';
import { readEventsBody } from './request-body';
import { sourceOf } from '../source';

@ApiTags('ingestion')
@Roles('platform')
@RateLimit('ingest')
@ApiExtraModels(EventEnvelopeDto)
@Controller('v1/events')
export class EventsController {
  constructor(
    private readonly commands: CommandBus,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Record one event envelope or an array of up to 1,000',
    description:
      'A single envelope answers 202 (accepted), 200 (duplicate) or 400/409 (rejected, error body). ' +
      'An array answers 200 with one result per event, in order.',
  })
  @ApiBody({
    schema: {
      oneOf: [
        { $ref: getSchemaPath(EventEnvelopeDto) },
        {
          type: 'array',
          maxItems: MAX_EVENTS_PER_REQUEST,
          items: { $ref: getSchemaPath(EventEnvelopeDto) },
        },
      ],
    },
  })
  @ApiResponse({
    status: 200,
    description: 'array: {results:[{eventId,status,code?,errors?}]}; single: duplicate',
  })
  @ApiResponse({ status: 202, description: 'single event accepted' })
  @ApiResponse({
    status: 400,
    description: 'invalid event (error body with code and field errors)',
  })
  @ApiResponse({
    status: 409,
    description: 'conflicts with the contract history (e.g. CONTRACT.ALREADY_SIGNED)',
  })
  @ApiResponse({ status: 413, description: 'more than 1,000 events, or body too large' })
  @ApiResponse({ status: 415, description: 'not application/json' })
  async record(
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
    @Principal() user: Principal | undefined,
  ): Promise<unknown> {
    const source = sourceOf(user);
    // read here, after authentication: only a platform's refused requests are kept for audit
    const read = await readEventsBody(req, res, this.config.bodyLimit);
    if (!read.ok) {
      await this.commands.execute(
        new KeepRejectedRequestCommand({
          code: read.code,
          message: read.message,
          errors: [],
          payload: read.kept,
          source,
        }),
      );
      throw new AppError(read.code, read.message, read.statusCode);
    }
    const body = read.value;
    if (Array.isArray(body)) {
      if (body.length > MAX_EVENTS_PER_REQUEST) {
        throw new AppError(
          ErrorCodes.BATCH_TOO_LARGE,
          `at most ${MAX_EVENTS_PER_REQUEST} events per request, got ${body.length}`,
          413,
        );
      }
      if (body.length === 0)
        throw new AppError(ErrorCodes.INVALID_PAYLOAD, 'the array of events is empty', 400);
      const outcomes = await this.commands.execute(
        new RecordEventsCommand(body.map((raw) => ({ raw, source }))),
      );
      return { results: outcomes.map(outcomeResult) };
    }
    const [outcome] = await this.commands.execute(new RecordEventsCommand([{ raw: body, source }]));
    if (outcome.status === 'rejected') throw rejectionError(outcome);
    res.status(outcome.status === 'accepted' ? 202 : 200);
    return {
      eventId: outcome.eventId,
      status: outcome.status,
      correlationId: correlationIdOf(req),
    };
  }
}

import { Body, Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
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
import { AppError, RateLimit, Roles, correlationIdOf } from '@app/platform';
import type { Request, Response } from 'express';
import { RecordEventsCommand, type IngestOutcome } from './record-events.command';
import { sourceOf } from '../source';

@ApiTags('ingestion')
@Roles('platform')
@RateLimit('ingest')
@ApiExtraModels(EventEnvelopeDto)
@Controller('v1/events')
export class EventsController {
  constructor(private readonly commands: CommandBus) {}

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
  async record(
    @Body() body: unknown,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<unknown> {
    if (!req.is('application/json') && !req.is('application/*+json')) {
      throw new AppError(
        'REQUEST.UNSUPPORTED_MEDIA_TYPE',
        'send the events as application/json',
        415,
      );
    }
    const source = sourceOf(req);
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
      return { results: outcomes.map(toResult) };
    }
    const [outcome] = await this.commands.execute(new RecordEventsCommand([{ raw: body, source }]));
    if (outcome.status === 'rejected') {
      throw new AppError(
        outcome.code!,
        outcome.message ?? 'rejected',
        outcome.httpStatus,
        outcome.errors ?? [],
      );
    }
    res.status(outcome.httpStatus);
    return {
      eventId: outcome.eventId,
      status: outcome.status,
      correlationId: correlationIdOf(req),
    };
  }
}

function toResult(o: IngestOutcome) {
  return o.status === 'rejected'
    ? {
        eventId: o.eventId,
        status: o.status,
        code: o.code,
        message: o.message,
        errors: o.errors ?? [],
      }
    : { eventId: o.eventId, status: o.status };
}

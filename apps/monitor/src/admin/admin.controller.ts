import { ErrorCodes } from '@app/contracts';
import {
  Body,
  Controller,
  Get,
  HttpCode,
  Param,
  ParseIntPipe,
  Post,
  Put,
  Query,
} from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { validateYearCalendar } from '@app/calendar';
import { Clock, NotFoundError, Roles, ValidationFailed } from '@app/platform';
import {
  CalendarService,
  ComplianceProjector,
  GetCalendarYearsQuery,
  PROJECTION_NAME,
  ProjectorDaemon,
  RebuildService,
} from '@app/projections';

@ApiTags('admin')
@Roles('admin')
@Controller('v1/admin')
export class AdminController {
  constructor(
    private readonly queries: QueryBus,
    private readonly projector: ComplianceProjector,
    private readonly daemon: ProjectorDaemon,
    private readonly rebuilds: RebuildService,
    private readonly calendar: CalendarService,
    private readonly clock: Clock,
  ) {}

  @Get('projections')
  @ApiOperation({ summary: 'Projection positions, lag and state' })
  async projections() {
    const lag = await this.projector.lag(PROJECTION_NAME);
    return {
      projections: [
        {
          name: PROJECTION_NAME,
          state: this.daemon.state,
          lastError: this.daemon.lastError,
          checkpoint: lag.checkpoint,
          headPosition: lag.headPosition,
          behind: lag.behind,
          rebuild: await this.rebuilds.report(),
        },
      ],
    };
  }

  @Post('projections/:name/rebuild')
  @HttpCode(202)
  @ApiOperation({
    summary:
      'Rebuild a projection into new tables while the old ones serve, then switch atomically',
    description: '`?wait=true` answers when the rebuild has finished (200 semantics, still 202).',
  })
  async rebuild(@Param('name') name: string, @Query('wait') wait?: string) {
    if (name !== PROJECTION_NAME)
      throw new NotFoundError(`projection ${name} not found`, ErrorCodes.PROJECTION_NOT_FOUND);
    const done = this.rebuilds.start();
    if (wait === 'true') return done;
    return this.rebuilds.status;
  }

  @Get('calendar')
  @ApiOperation({
    summary: 'Years with an official holiday calendar (package data and uploads)',
    description:
      'Read from the database, marks nothing. `pending`: an upload (or a package change) the ' +
      'projector has not applied to the stored deadlines yet.',
  })
  years() {
    return this.queries.execute(new GetCalendarYearsQuery());
  }

  @Put('calendar/:year')
  @ApiOperation({
    summary: "Load a year's State Council holiday notice (rest days and make-up working days)",
  })
  @ApiBody({
    schema: {
      type: 'object',
      required: ['restDays', 'workingDays'],
      properties: {
        restDays: { type: 'array', items: { type: 'string', format: 'date' } },
        workingDays: {
          type: 'array',
          items: { type: 'string', format: 'date' },
          description: '调休上班 (weekend days)',
        },
        source: { type: 'string', example: '国办发明电〔2026〕1号' },
      },
    },
  })
  async putYear(@Param('year', ParseIntPipe) year: number, @Body() body: unknown) {
    const input =
      body && typeof body === 'object'
        ? { source: `admin upload ${new Date(this.clock.now()).toISOString()}`, ...body }
        : body;
    const r = validateYearCalendar(input, year);
    if (!r.ok)
      throw new ValidationFailed(
        'the calendar year is not valid',
        r.errors,
        ErrorCodes.CALENDAR_INVALID_YEAR,
      );
    await this.calendar.upload(r.value);
    return {
      ...r.value,
      status: 'stored',
      note: 'the projector applies it on its next tick: business days and the deadlines depending on this year are recomputed',
    };
  }
}

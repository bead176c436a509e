import { Controller, Get, Res } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '@app/platform';
import type { Response } from 'express';
import { PingDatabaseQuery, ProjectorDaemon } from '@app/projections';
import { HealthIndicators } from './health-indicators';

@ApiTags('operations')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly queries: QueryBus,
    private readonly indicators: HealthIndicators,
    private readonly projector: ProjectorDaemon,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'Liveness and readiness: database reachable, role states',
    description:
      '503 `unavailable` when the database cannot be reached; 200 `degraded` when it can but a ' +
      'role makes no progress (a Kafka partition stuck past KAFKA_STUCK_AFTER_MS, the consumer ' +
      'reconnecting, the projector in error), naming what in `problems`; else 200 `ok`.',
  })
  async health(@Res({ passthrough: true }) res: Response) {
    const database = (await this.queries.execute(new PingDatabaseQuery())) ? 'up' : 'down';
    const components = withoutErrorTexts(this.indicators.report());
    const ok = database === 'up';
    res.status(ok ? 200 : 503);
    // error texts stay out of this open endpoint (they can quote data): see /v1/admin/projections
    const projector = this.projector.health(); // state, behind (events), lastErrorAt
    const problems = [
      ...(projector.state === 'error' ? ['projector'] : []),
      ...Object.entries(components)
        .filter(([, v]) => (v as { degraded?: unknown } | null)?.degraded === true)
        .map(([name]) => name),
    ];
    const status = !ok ? 'unavailable' : problems.length > 0 ? 'degraded' : 'ok';
    return { status, database, problems, projector, ...components };
  }
}

/** Keeps when a component last failed, not what it said (messages can quote data). */
function withoutErrorTexts(parts: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(parts)) {
    if (value && typeof value === 'object' && 'lastError' in value) {
      const { lastError, ...rest } = value as { lastError?: { at?: string } | null };
      out[name] = { ...rest, lastErrorAt: lastError?.at ?? null };
    } else {
      out[name] = value;
    }
  }
  return out;
}

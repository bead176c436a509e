import { Controller, Get, Header } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { Registry } from 'prom-client';
import { Public } from '../auth';
import { Metrics } from './metrics';

@ApiTags('operations')
@Public()
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: Metrics) {}

  @Get()
  @Header('Content-Type', Registry.PROMETHEUS_CONTENT_TYPE)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Prometheus metrics (text format 0.0.4)',
    description:
      "This instance's figures: `http_request_duration_seconds{method,route,status_code}` " +
      '(route patterns, never raw URLs), `ingestion_events_total{path,outcome,code}`, ' +
      '`projector_*` (state, position, lag, batch duration), `db_pool_*{pool}` (write and read ' +
      'pools), `kafka_consumer_*` (consumed, outcomes, lag and stuck partitions), and the ' +
      'process (`process_*`, `nodejs_*`).',
  })
  @ApiProduces('text/plain')
  render(): Promise<string> {
    return this.metrics.render();
  }
}

import { Global, Module } from '@nestjs/common';
import { DatabasePoolMetrics } from './database-metrics';
import { HttpMetrics } from './http-metrics';
import { Metrics } from './metrics';
import { MetricsController } from './metrics.controller';

/**
 * `/metrics` and the per-application registry (Metrics) that the other modules register
 * their collectors into (ingestion outcomes, projector, Kafka consumer). HttpMetrics'
 * middleware is installed by the bootstrap, before the routes.
 */
@Global()
@Module({
  controllers: [MetricsController],
  providers: [Metrics, HttpMetrics, DatabasePoolMetrics],
  exports: [Metrics, HttpMetrics],
})
export class MetricsModule {}

import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { APP_CONFIG, type AppConfig } from '@app/platform';
import { DecisionStateCache } from './record-events/decision-state-cache';
import { RecordEventsHandler } from './record-events/record-events.handler';
import { EventsController } from './record-events/events.controller';
import { IngestionMetrics } from './record-events/ingestion-metrics';
import { KeepRejectedRequestHandler } from './keep-rejected-request/keep-rejected-request.handler';

@Module({
  imports: [CqrsModule],
  controllers: [EventsController],
  providers: [
    RecordEventsHandler,
    KeepRejectedRequestHandler,
    IngestionMetrics,
    {
      provide: DecisionStateCache,
      inject: [APP_CONFIG],
      useFactory: (c: AppConfig) =>
        new DecisionStateCache(c.decisionCacheMb, c.decisionCachePackedMb),
    },
  ],
})
export class IngestionModule {}

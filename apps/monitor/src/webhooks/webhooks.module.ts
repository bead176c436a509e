import { Module } from '@nestjs/common';
import { ProjectionsModule } from '@app/projections';
import { DeliveryWorker } from './delivery.worker';
import { WebhookMetrics } from './webhook-metrics';

import { WebhooksController } from './webhooks.controller';

/** Early warnings (SPEC §8): subscriptions, their history, and the `notifier` role. */
@Module({
  imports: [ProjectionsModule],
  controllers: [WebhooksController],
  providers: [WebhookMetrics, DeliveryWorker],
  exports: [DeliveryWorker],
})
export class WebhooksModule {}

import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { APP_CONFIG, type AppConfig } from '@app/platform';
import { KAFKA_CLIENTS } from './event-consumer.port';
import { KafkaConsumerRole } from './kafka-consumer.role';
import { KafkaMetrics } from './kafka-metrics';
import { KafkaPrometheus } from './kafka-prometheus';
import { KafkajsClients } from './kafkajs.adapter';

/** Partitions whose batches one instance handles at the same time (each partition in order). */
const CONCURRENT_PARTITIONS = 3;

/**
 * The Kafka consumer role and its metrics (KafkaPrometheus: in the application's /metrics).
 * Always imported; the consumer itself only runs when `roles.consumer` is on (KAFKA_BROKERS
 * set, or ROLE_CONSUMER=true).
 */
@Module({
  imports: [CqrsModule],
  providers: [
    KafkaMetrics,
    {
      provide: KAFKA_CLIENTS,
      inject: [APP_CONFIG],
      useFactory: (c: AppConfig) =>
        new KafkajsClients({
          ...c.kafka,
          logLevel: c.logLevel,
          concurrency: CONCURRENT_PARTITIONS,
        }),
    },
    KafkaConsumerRole,
    KafkaPrometheus,
  ],
  exports: [KafkaMetrics, KafkaConsumerRole],
})
export class KafkaModule {}

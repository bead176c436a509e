import { Injectable } from '@nestjs/common';
import { Metrics } from '@app/platform';
import { KafkaConsumerRole } from './kafka-consumer.role';
import { KafkaMetrics } from './kafka-metrics';

/**
 * The Kafka consumer's figures in the application's Prometheus registry, read from
 * KafkaMetrics and the role at scrape time. The names, labels and meanings are those the
 * service has always shown (kafka_consumer_*): dashboards and alerts depend on them.
 */
@Injectable()
export class KafkaPrometheus {
  constructor(metrics: Metrics, kafka: KafkaMetrics, role: KafkaConsumerRole) {
    const topic = () => String(role.report().topic);
    metrics.counter({
      name: 'kafka_consumer_consumed_total',
      help: 'Kafka records handled and committed.',
      collect() {
        this.reset();
        this.inc(kafka.snapshot().consumed);
      },
    });
    metrics.counter({
      name: 'kafka_consumer_events_total',
      help: 'Consumed records by ingestion outcome.',
      labelNames: ['outcome'],
      collect() {
        const snap = kafka.snapshot();
        this.reset();
        this.inc({ outcome: 'accepted' }, snap.accepted);
        this.inc({ outcome: 'duplicate' }, snap.duplicate);
        this.inc({ outcome: 'rejected' }, snap.rejected);
      },
    });
    metrics.counter({
      name: 'kafka_consumer_rejected_total',
      help: 'Rejected records by error code.',
      labelNames: ['code'],
      collect() {
        this.reset();
        for (const [code, n] of Object.entries(kafka.snapshot().rejectedByCode))
          this.inc({ code }, n);
      },
    });
    const plainCounter = (name: string, help: string, value: () => number) =>
      metrics.counter({
        name,
        help,
        collect() {
          this.reset();
          this.inc(value());
        },
      });
    plainCounter(
      'kafka_consumer_dead_lettered_total',
      'Records published to the dead-letter topic.',
      () => kafka.snapshot().deadLettered,
    );
    plainCounter(
      'kafka_consumer_retries_total',
      'Failed batch steps that were retried (database or DLQ down).',
      () => kafka.snapshot().retries,
    );
    plainCounter('kafka_consumer_commits_total', 'Offset commits.', () => kafka.snapshot().commits);
    metrics.gauge({
      name: 'kafka_consumer_lag',
      help: 'Records behind the log end, per assigned partition, as of the last commit.',
      labelNames: ['topic', 'partition'],
      collect() {
        this.reset();
        const t = topic();
        for (const [partition, n] of Object.entries(kafka.snapshot().lag))
          this.set({ topic: t, partition }, n);
      },
    });
    metrics.gauge({
      name: 'kafka_consumer_partition_stuck',
      help: 'Assigned partitions whose batch step has failed for longer than KAFKA_STUCK_AFTER_MS (1), by the error code.',
      labelNames: ['topic', 'partition', 'code'],
      collect() {
        this.reset();
        const t = topic();
        for (const s of role.stuckPartitions())
          this.set({ topic: t, partition: String(s.partition), code: s.code }, 1);
      },
    });
    metrics.gauge({
      name: 'kafka_consumer_partition_stuck_seconds',
      help: 'How long a stuck partition has been retrying the same records.',
      labelNames: ['topic', 'partition'],
      collect() {
        this.reset();
        const t = topic();
        for (const s of role.stuckPartitions())
          this.set(
            { topic: t, partition: String(s.partition) },
            (Date.now() - Date.parse(s.since)) / 1000,
          );
      },
    });
    metrics.gauge({
      name: 'kafka_consumer_assigned_partitions',
      help: 'Partitions assigned to this instance.',
      collect() {
        this.set(kafka.snapshot().assignedPartitions.length);
      },
    });
  }
}

import { Controller, Get, Header } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { Public } from '@app/platform';
import { KafkaMetrics } from './kafka-metrics';
import { KafkaConsumerRole } from './kafka-consumer.role';

/**
 * Minimal Prometheus text exposition (format 0.0.4) of the Kafka consumer counters plus the
 * process memory. A general /metrics endpoint may replace it; then move these lines there.
 */
@ApiTags('operations')
@Public()
@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly metrics: KafkaMetrics,
    private readonly role: KafkaConsumerRole,
  ) {}

  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Prometheus metrics (text format)' })
  @ApiProduces('text/plain')
  render(): string {
    const m = this.metrics.snapshot();
    const topic = String(this.role.report().topic);
    const out: string[] = [];
    const metric = (
      name: string,
      type: 'counter' | 'gauge',
      help: string,
      samples: Array<[Record<string, string>, number]>,
    ) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, value] of samples) out.push(`${name}${labelText(labels)} ${value}`);
    };
    metric('kafka_consumer_consumed_total', 'counter', 'Kafka records handled and committed.', [
      [{}, m.consumed],
    ]);
    metric('kafka_consumer_events_total', 'counter', 'Consumed records by ingestion outcome.', [
      [{ outcome: 'accepted' }, m.accepted],
      [{ outcome: 'duplicate' }, m.duplicate],
      [{ outcome: 'rejected' }, m.rejected],
    ]);
    metric(
      'kafka_consumer_rejected_total',
      'counter',
      'Rejected records by error code.',
      Object.entries(m.rejectedByCode).map(([code, n]) => [{ code }, n]),
    );
    metric(
      'kafka_consumer_dead_lettered_total',
      'counter',
      'Records published to the dead-letter topic.',
      [[{}, m.deadLettered]],
    );
    metric(
      'kafka_consumer_retries_total',
      'counter',
      'Failed batch steps that were retried (database or DLQ down).',
      [[{}, m.retries]],
    );
    metric('kafka_consumer_commits_total', 'counter', 'Offset commits.', [[{}, m.commits]]);
    metric(
      'kafka_consumer_lag',
      'gauge',
      'Records behind the log end, per assigned partition, as of the last commit.',
      Object.entries(m.lag).map(([partition, n]) => [{ topic, partition }, n]),
    );
    const stuck = this.role.stuckPartitions();
    metric(
      'kafka_consumer_partition_stuck',
      'gauge',
      'Assigned partitions whose batch step has failed for longer than KAFKA_STUCK_AFTER_MS (1), by the error code.',
      stuck.map((s) => [{ topic, partition: String(s.partition), code: s.code }, 1]),
    );
    metric(
      'kafka_consumer_partition_stuck_seconds',
      'gauge',
      'How long a stuck partition has been retrying the same records.',
      stuck.map((s) => [
        { topic, partition: String(s.partition) },
        (Date.now() - Date.parse(s.since)) / 1000,
      ]),
    );
    metric('kafka_consumer_assigned_partitions', 'gauge', 'Partitions assigned to this instance.', [
      [{}, m.assignedPartitions.length],
    ]);
    metric('process_resident_memory_bytes', 'gauge', 'Resident memory size in bytes.', [
      [{}, process.memoryUsage.rss()],
    ]);
    return `${out.join('\n')}\n`;
  }
}

function labelText(labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(
    ([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`,
  );
  return parts.length > 0 ? `{${parts.join(',')}}` : '';
}

import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { PgEventStore } from '@app/event-store';
import { APP_CONFIG, type AppConfig } from '@app/platform';
import { HealthIndicators } from '../health/health-indicators';
import { RecordEventsCommand } from '../ingestion/record-events/record-events.command';
import { backoffMs, Sleeper } from '@app/platform';
import { BatchIngestor, type StepFailure } from './batch-ingestor';
import {
  KAFKA_CLIENTS,
  type DlqPublisher,
  type EventConsumer,
  type KafkaClients,
} from './event-consumer.port';
import { KafkaMetrics } from './kafka-metrics';

const STOPPED = Symbol('stopped');

interface Session {
  consumer: EventConsumer;
  dlq: DlqPublisher;
}

export type ConsumerState =
  | 'disabled'
  /** connecting, creating topics, joining the group (HTTP serves meanwhile) */
  | 'connecting'
  | 'running'
  /** a batch step (database, dead-letter topic) fails and is being retried; nothing is committed */
  | 'retrying'
  /** the Kafka client crashed or the broker is unreachable; reconnecting with backoff */
  | 'reconnecting'
  | 'stopping'
  | 'stopped';

/**
 * The consumer role (on when KAFKA_BROKERS is set, or ROLE_CONSUMER=true): reads the events
 * topic as a member of the consumer group and feeds RecordEventsCommand, the same use case
 * as POST /v1/events. Connects in the background so that HTTP never waits for the broker.
 */
@Injectable()
export class KafkaConsumerRole
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private readonly logger = new Logger('KafkaConsumer');
  private readonly sleeper = new Sleeper();
  private state: ConsumerState = 'disabled';
  private lastError: { message: string; at: string } | null = null;
  private readonly failing = new Map<number, StepFailure>();
  private stopping = false;
  private loop: Promise<void> = Promise.resolve();
  private stopped: Promise<void> | null = null;
  private signalStop!: () => void;
  private readonly stopSignal = new Promise<typeof STOPPED>(
    (resolve) => (this.signalStop = () => resolve(STOPPED)),
  );

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(KAFKA_CLIENTS) private readonly clients: KafkaClients,
    private readonly commands: CommandBus,
    private readonly store: PgEventStore,
    private readonly metrics: KafkaMetrics,
    indicators: HealthIndicators,
  ) {
    indicators.register('kafka', () => this.report());
  }

  onApplicationBootstrap(): void {
    if (!this.config.roles.consumer) return;
    if (this.config.kafka.brokers.length === 0) {
      this.lastError = {
        message: 'ROLE_CONSUMER is on but KAFKA_BROKERS is empty',
        at: new Date().toISOString(),
      };
      this.logger.error(this.lastError.message);
      return;
    }
    this.state = 'connecting';
    this.loop = this.run();
  }

  /**
   * Stops before the other modules' onApplicationShutdown hooks run: the database pool is
   * closed in TypeORM's, and the batch in hand still needs it to finish and commit.
   */
  beforeApplicationShutdown(): Promise<void> {
    return this.stop();
  }

  onApplicationShutdown(): Promise<void> {
    return this.stop();
  }

  /** Finishes the batch in hand, commits, leaves the group, disconnects. Idempotent. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      if (this.state === 'disabled') return;
      this.stopping = true;
      this.state = 'stopping';
      this.signalStop();
      this.sleeper.wake();
      await this.loop;
      this.state = 'stopped';
      this.logger.log('consumer stopped');
    })();
    return this.stopped;
  }

  /**
   * Partitions whose batch step has failed for longer than KAFKA_STUCK_AFTER_MS: they make no
   * progress (the database is down, or a step keeps failing), and /health says so.
   */
  stuckPartitions(now = Date.now()): Array<{
    partition: number;
    offset: string;
    step: string;
    code: string;
    since: string;
    attempts: number;
  }> {
    return [...this.failing.values()]
      .filter((f) => now - f.since >= this.config.kafka.stuckAfterMs)
      .map((f) => ({
        partition: f.partition,
        offset: f.offset,
        step: f.step,
        code: errorCode(f.error),
        since: new Date(f.since).toISOString(),
        attempts: f.attempt,
      }));
  }

  report(): Record<string, unknown> {
    const m = this.metrics.snapshot();
    const stuck = this.stuckPartitions();
    return {
      state: this.state,
      topic: this.config.kafka.topic,
      dlqTopic: this.config.kafka.dlqTopic,
      groupId: this.config.kafka.groupId,
      assignedPartitions: m.assignedPartitions,
      lag: m.lag,
      failingPartitions: Object.fromEntries(
        [...this.failing].map(([p, f]) => [
          p,
          { step: f.step, attempt: f.attempt, offset: f.offset, code: errorCode(f.error) },
        ]),
      ),
      stuckPartitions: stuck,
      // no progress is a problem /health reports (never a falsely "ok")
      degraded: stuck.length > 0 || this.state === 'reconnecting',
      lastError: this.lastError,
    };
  }

  /** Connect, consume until the client gives up, reconnect with backoff; until stopped. */
  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      let session: Session | null = null;
      try {
        session = { consumer: this.clients.consumer(), dlq: this.clients.dlqPublisher() };
        if ((await this.untilStopped(this.prepare(session))) === STOPPED) break;
        const crash = await this.untilStopped(this.consume(session, () => (failures = 0)));
        if (crash === STOPPED) break;
        throw crash;
      } catch (err) {
        failures++;
        this.noteError(err);
        if (!this.stopping) {
          this.logger.warn(
            `Kafka unavailable (failure ${failures}), reconnecting: ${(err as Error).message}`,
          );
        }
      } finally {
        // The consumer first: it finishes the batch in hand, which may still dead-letter.
        if (session) await this.disconnect(session);
      }
      if (this.stopping) break;
      this.state = 'reconnecting';
      await this.sleeper.sleep(backoffMs(failures, 1_000, 30_000));
    }
  }

  /** Creates missing topics and connects the dead-letter producer. */
  private async prepare(session: Session): Promise<void> {
    const k = this.config.kafka;
    const created = await this.clients.admin().ensureTopics([
      { topic: k.topic, partitions: k.partitions },
      { topic: k.dlqTopic, partitions: k.partitions },
    ]);
    if (created.length > 0)
      this.logger.log(`created topics ${created.join(', ')} (${k.partitions} partitions)`);
    await session.dlq.connect();
  }

  /** Resolves with the error that made the client give up for good. */
  private consume(session: Session, onJoin: () => void): Promise<Error> {
    const k = this.config.kafka;
    const ingestor = this.ingestor(session.dlq);
    return new Promise<Error>((resolve) => {
      session.consumer
        .start((batch, ctl) => ingestor.handle(batch, ctl), {
          onAssignment: (partitions) => {
            onJoin();
            this.metrics.recordAssignment(partitions);
            for (const p of [...this.failing.keys()])
              if (!partitions.includes(p)) this.failing.delete(p);
            if (!this.stopping) this.state = this.failing.size > 0 ? 'retrying' : 'running';
            this.logger.log(
              `joined group ${k.groupId}: partitions [${partitions.join(', ')}] of ${k.topic}`,
            );
          },
          onCrash: (error, restarting) => {
            this.noteError(error);
            if (this.stopping) return;
            this.state = 'reconnecting';
            this.logger.error(
              `consumer crashed (${restarting ? 'the client restarts it' : 'reconnecting'}): ${error.message}`,
            );
            if (!restarting) resolve(error);
          },
        })
        .catch((err: unknown) => resolve(err instanceof Error ? err : new Error(String(err))));
    });
  }

  private untilStopped<T>(p: Promise<T>): Promise<T | typeof STOPPED> {
    return Promise.race([p, this.stopSignal]);
  }

  private ingestor(dlq: DlqPublisher): BatchIngestor {
    return new BatchIngestor({
      record: (items) => this.commands.execute(new RecordEventsCommand(items)),
      recordUnparsable: (rows) =>
        this.store.transaction((c) => this.store.recordRejections(c, rows)),
      deadLettered: (topic, partition, offsets) =>
        this.store.transaction((c) => this.store.deadLetteredOffsets(c, topic, partition, offsets)),
      markDeadLettered: (topic, partition, offsets) =>
        this.store.transaction((c) => this.store.markDeadLettered(c, topic, partition, offsets)),
      platformId: this.config.kafka.platformId,
      dlq,
      metrics: this.metrics,
      sleeper: this.sleeper,
      onRetry: (failure) => {
        this.failing.set(failure.partition, failure);
        this.noteError(failure.error);
        if (!this.stopping) this.state = 'retrying';
      },
      onRecovered: (partition) => {
        this.failing.delete(partition);
        if (!this.stopping && this.failing.size === 0) this.state = 'running';
      },
    });
  }

  private noteError(err: unknown): void {
    this.lastError = {
      message: (err as Error)?.message ?? String(err),
      at: new Date().toISOString(),
    };
  }

  private async disconnect(session: Session): Promise<void> {
    await session.consumer
      .stop()
      .catch((e: unknown) => this.logger.warn(`consumer disconnect: ${(e as Error).message}`));
    await session.dlq
      .disconnect()
      .catch((e: unknown) => this.logger.warn(`producer disconnect: ${(e as Error).message}`));
  }
}

/** A stable code for an error: PostgreSQL's SQLSTATE, Node's errno code, else its name. */
function errorCode(err: Error): string {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && code.length > 0) return code.slice(0, 40);
  return err.name || 'Error';
}

import { Logger } from '@nestjs/common';
import {
  Kafka,
  Partitioners,
  logLevel,
  type Consumer,
  type EachBatchPayload,
  type LogEntry,
  type Producer,
  type RetryOptions,
} from 'kafkajs';
import {
  BatchRevoked,
  type BatchControl,
  type BatchHandler,
  type ConsumerCallbacks,
  type DeadLetter,
  type DlqPublisher,
  type EventConsumer,
  type InboundBatch,
  type KafkaClients,
  type TopicAdmin,
  type TopicSpec,
} from './event-consumer.port';

export interface KafkajsOptions {
  brokers: string[];
  clientId: string;
  groupId: string;
  topic: string;
  dlqTopic: string;
  logLevel: 'error' | 'warn' | 'log' | 'debug' | 'verbose';
  /** partitions whose batches are handled at the same time (each in order) */
  concurrency: number;
}

/** kafkajs's own retries (connection, metadata, coordinator); ours are in the ingestor. */
const CLIENT_RETRY: RetryOptions = { initialRetryTime: 300, maxRetryTime: 10_000, retries: 5 };

/**
 * Errors after which the member is no longer the owner of its partitions. kafkajs must see
 * them again (it re-joins the group on them), so BatchRevoked carries the original.
 */
const GROUP_CHANGE = new Set([
  'REBALANCE_IN_PROGRESS',
  'NOT_COORDINATOR_FOR_GROUP',
  'ILLEGAL_GENERATION',
  'UNKNOWN_MEMBER_ID',
  'FENCED_INSTANCE_ID',
]);
const isGroupChange = (e: unknown) => GROUP_CHANGE.has((e as { type?: string })?.type ?? '');

/** kafkajs clients behind our port. Nothing connects until a method is used. */
export class KafkajsClients implements KafkaClients {
  private client: Kafka | null = null;

  constructor(private readonly opts: KafkajsOptions) {}

  private kafka(): Kafka {
    this.client ??= new Kafka({
      clientId: this.opts.clientId,
      brokers: this.opts.brokers,
      connectionTimeout: 3_000,
      retry: CLIENT_RETRY,
      logLevel: kafkaLogLevel(this.opts.logLevel),
      logCreator: nestLogCreator,
    });
    return this.client;
  }

  consumer(): EventConsumer {
    return new KafkajsEventConsumer(this.kafka(), this.opts);
  }

  dlqPublisher(): DlqPublisher {
    return new KafkajsDlqPublisher(this.kafka(), this.opts.dlqTopic);
  }

  admin(): TopicAdmin {
    return new KafkajsTopicAdmin(this.kafka());
  }
}

class KafkajsEventConsumer implements EventConsumer {
  private consumer: Consumer | null = null;
  private stopping: Promise<void> | null = null;

  constructor(
    private readonly kafka: Kafka,
    private readonly opts: KafkajsOptions,
  ) {}

  async start(handler: BatchHandler, callbacks: ConsumerCallbacks = {}): Promise<void> {
    if (this.consumer) throw new Error('consumer already started');
    const topic = this.opts.topic;
    const consumer = this.kafka.consumer({
      groupId: this.opts.groupId,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
      rebalanceTimeout: 60_000,
      allowAutoTopicCreation: false,
      // A crash on a retriable error restarts the consumer from the last committed offset.
      retry: { ...CLIENT_RETRY, restartOnFailure: async () => true },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      callbacks.onAssignment?.(
        [...(e.payload.memberAssignment[topic] ?? [])].sort((a, b) => a - b),
      );
    });
    consumer.on(consumer.events.CRASH, (e) => {
      callbacks.onCrash?.(e.payload.error, e.payload.restart);
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.opts.concurrency,
      eachBatch: async (payload) => {
        try {
          await handler(toBatch(payload), control(payload));
        } catch (err) {
          // kafkajs recognises its own rebalance errors and re-joins the group.
          if (err instanceof BatchRevoked) throw err.cause;
          throw err;
        }
      },
    });
  }

  stop(): Promise<void> {
    this.stopping ??= this.consumer ? this.consumer.disconnect() : Promise.resolve();
    return this.stopping;
  }
}

function toBatch({ batch }: EachBatchPayload): InboundBatch {
  return {
    topic: batch.topic,
    partition: batch.partition,
    highWatermark: batch.highWatermark,
    messages: batch.messages.map((m) => ({
      topic: batch.topic,
      partition: batch.partition,
      offset: m.offset,
      key: m.key ?? null,
      value: m.value ?? null,
      timestamp: m.timestamp,
    })),
  };
}

function control(p: EachBatchPayload): BatchControl {
  const { topic, partition } = p.batch;
  const revokedOr = async (fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (err) {
      throw isGroupChange(err) ? new BatchRevoked(err) : err;
    }
  };
  return {
    isRunning: () => p.isRunning(),
    isStale: () => p.isStale(),
    heartbeat: () => revokedOr(() => p.heartbeat()),
    commit: (offset) =>
      revokedOr(async () => {
        // resolveOffset moves the fetch position (and skips a trailing transaction marker);
        // the commit sends exactly this partition's resolved offset, synchronously.
        p.resolveOffset(offset);
        const mine = p
          .uncommittedOffsets()
          .topics.filter((t) => t.topic === topic)
          .map((t) => ({
            topic,
            partitions: t.partitions.filter((x) => Number(x.partition) === partition),
          }))
          .filter((t) => t.partitions.length > 0);
        if (mine.length > 0) await p.commitOffsetsIfNecessary({ topics: mine });
      }),
  };
}

class KafkajsDlqPublisher implements DlqPublisher {
  private readonly producer: Producer;

  constructor(
    kafka: Kafka,
    private readonly topic: string,
  ) {
    this.producer = kafka.producer({
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: CLIENT_RETRY,
    });
  }

  connect(): Promise<void> {
    return this.producer.connect();
  }

  async publish(records: DeadLetter[]): Promise<void> {
    if (records.length === 0) return;
    await this.producer.send({
      topic: this.topic,
      acks: -1,
      messages: records.map((r) => ({ key: r.key, value: r.value, headers: r.headers })),
    });
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }
}

class KafkajsTopicAdmin implements TopicAdmin {
  private readonly logger = new Logger('Kafka');

  constructor(private readonly kafka: Kafka) {}

  async ensureTopics(topics: TopicSpec[]): Promise<string[]> {
    // No retries of its own: the consumer role retries the whole start with a backoff that
    // a shutdown can interrupt (kafkajs's retry timers cannot be cancelled).
    const admin = this.kafka.admin({ retry: { retries: 0 } });
    await admin.connect();
    try {
      const existing = new Set(await admin.listTopics());
      const missing = topics.filter((t) => !existing.has(t.topic));
      if (missing.length > 0) {
        // false when another instance created them first: fine either way.
        await admin.createTopics({
          waitForLeaders: true,
          topics: missing.map((t) => ({ topic: t.topic, numPartitions: t.partitions })),
        });
      }
      const present = topics.filter((t) => existing.has(t.topic));
      if (present.length > 0) {
        const meta = await admin.fetchTopicMetadata({ topics: present.map((t) => t.topic) });
        for (const m of meta.topics) {
          const want = topics.find((t) => t.topic === m.name)!.partitions;
          if (m.partitions.length !== want) {
            this.logger.warn(
              `topic ${m.name} has ${m.partitions.length} partitions (KAFKA_PARTITIONS=${want}); left as is`,
            );
          }
        }
      }
      return missing.map((t) => t.topic);
    } finally {
      await admin.disconnect();
    }
  }
}

function kafkaLogLevel(level: KafkajsOptions['logLevel']): logLevel {
  switch (level) {
    case 'error':
      return logLevel.ERROR;
    case 'warn':
    case 'log':
      return logLevel.WARN; // kafkajs INFO is one line per join/commit: too chatty for 'log'
    case 'debug':
      return logLevel.INFO;
    case 'verbose':
      return logLevel.DEBUG;
  }
}

function nestLogCreator(): (entry: LogEntry) => void {
  const logger = new Logger('Kafka');
  return ({ namespace, level, log }) => {
    // kafkajs puts the error's message (a string) beside its own
    const { message, error } = log as { message: string; error?: string };
    const detail = error && !message.includes(error) ? `: ${error}` : '';
    const text = `${namespace ? `[${namespace}] ` : ''}${message}${detail}`;
    switch (level) {
      case logLevel.ERROR:
        // An unreachable broker is reported (and retried) by the consumer role: a warning here.
        if (namespace === 'Connection' || namespace === 'BrokerPool') logger.warn(text);
        else logger.error(text);
        break;
      case logLevel.WARN:
        logger.warn(text);
        break;
      case logLevel.INFO:
        logger.log(text);
        break;
      case logLevel.DEBUG:
        logger.debug(text);
        break;
      case logLevel.NOTHING:
        break;
    }
  };
}

/**
 * Our own small port in front of the Kafka client (kafkajs is in maintenance mode,
 * tulios/kafkajs#1603): the consumer role only sees these types, so the client can be
 * swapped without touching the ingestion logic.
 */

/** One record as read from a partition. */
export interface InboundMessage {
  topic: string;
  partition: number;
  /** offset as a decimal string (64-bit) */
  offset: string;
  key: Buffer | null;
  /** null for a tombstone */
  value: Buffer | null;
  /** broker/producer timestamp, epoch milliseconds as a decimal string */
  timestamp: string;
}

/** Consecutive records of one partition. */
export interface InboundBatch {
  topic: string;
  partition: number;
  /** offset of the next record the partition will get (log end for the consumer) */
  highWatermark: string;
  messages: InboundMessage[];
}

/** What a batch handler may do while it holds a batch. */
export interface BatchControl {
  /** false once the consumer is stopping: finish the work in hand, start nothing new. */
  isRunning(): boolean;
  /** true once the partition was taken away (rebalance) or seeked: drop the batch, commit nothing. */
  isStale(): boolean;
  /** Keeps the group membership alive during long work; throws when the group rebalances. */
  heartbeat(): Promise<void>;
  /**
   * Marks every record up to and including `offset` as done and commits `offset + 1` for
   * the group, synchronously (resolves once the coordinator acknowledged it).
   */
  commit(offset: string): Promise<void>;
}

export type BatchHandler = (batch: InboundBatch, control: BatchControl) => Promise<void>;

export interface ConsumerCallbacks {
  /** Called with this member's partitions after every (re)join of the group. */
  onAssignment?(partitions: number[]): void;
  /** The client gave up on an error; `restarting` says whether it restarts by itself. */
  onCrash?(error: Error, restarting: boolean): void;
}

/** A consumer-group member reading one topic from the earliest uncommitted offset. */
export interface EventConsumer {
  /**
   * Connects, subscribes and starts handing batches to `handler`, one partition's batches
   * in order. Never commits by itself. Rejects when the broker cannot be reached.
   */
  start(handler: BatchHandler, callbacks?: ConsumerCallbacks): Promise<void>;
  /** Lets the batch in hand finish, leaves the group and disconnects. Idempotent. */
  stop(): Promise<void>;
}

/** A dead-lettered record: the original bytes and key, headers naming the error. */
export interface DeadLetter {
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

/** Publishes to the dead-letter topic; resolves once all in-sync replicas have the records. */
export interface DlqPublisher {
  connect(): Promise<void>;
  publish(records: DeadLetter[]): Promise<void>;
  disconnect(): Promise<void>;
}

export interface TopicSpec {
  topic: string;
  partitions: number;
}

/** Creates missing topics (existing ones are left as they are). */
export interface TopicAdmin {
  /** Returns the topics it created. */
  ensureTopics(topics: TopicSpec[]): Promise<string[]>;
}

/** Builds the clients of one service instance (a fresh set per connection attempt). */
export interface KafkaClients {
  consumer(): EventConsumer;
  dlqPublisher(): DlqPublisher;
  admin(): TopicAdmin;
}

export const KAFKA_CLIENTS = Symbol('KAFKA_CLIENTS');

/**
 * Thrown by {@link BatchControl.heartbeat} and {@link BatchControl.commit} when the group
 * rebalanced under us: the batch belongs to someone else now. Let it propagate; the
 * uncommitted records are redelivered (eventIds make that safe).
 */
export class BatchRevoked extends Error {
  constructor(cause: unknown) {
    super(`consumer group changed: ${(cause as Error)?.message ?? String(cause)}`, { cause });
  }
}

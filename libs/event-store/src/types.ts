/** An event about to be appended. */
export interface NewEvent {
  eventId: string;
  streamId: string;
  type: string;
  schemaVersion: number;
  /** ISO-8601 with offset, as received */
  occurredAt: string;
  data: Record<string, unknown>;
  metadata: EventMetadata;
}

export interface EventSource {
  kind: 'http' | 'kafka' | 'inspector' | 'import';
  platformId?: string;
  principal?: string;
  topic?: string;
  partition?: number;
  offset?: string;
}

export interface EventMetadata {
  source: EventSource;
  correlationId?: string;
  causationId?: string;
}

/** An event as stored. */
export interface StoredEvent {
  globalPosition: string;
  transactionId: string;
  streamId: string;
  streamVersion: number;
  eventId: string;
  type: string;
  schemaVersion: number;
  occurredAt: string;
  recordedAt: string;
  data: Record<string, unknown>;
  metadata: EventMetadata & { occurredAt?: string };
}

/** Position in the global order: (transaction_id, global_position). */
export interface Checkpoint {
  transactionId: string;
  globalPosition: string;
}

export const START: Checkpoint = { transactionId: '0', globalPosition: '0' };

export interface StreamAppend {
  streamId: string;
  /** version the stream must have now (0 = must not exist) */
  expectedVersion: number;
  events: NewEvent[];
}

export interface RejectedEventRow {
  eventId?: string | null;
  contractId?: string | null;
  type?: string | null;
  code: string;
  message: string;
  errors: unknown[];
  payload: unknown;
  source: EventSource;
}

/** Default Kafka topic names (overridable by configuration). */
export const DEFAULT_EVENTS_TOPIC = 'procurement.events';
export const DEFAULT_DLQ_TOPIC = 'procurement.events.dlq';

/** Headers set on every dead-lettered message. */
export const DlqHeaders = {
  ERROR_CODE: 'x-error-code',
  ERROR_MESSAGE: 'x-error-message',
  ORIGINAL_TOPIC: 'x-original-topic',
  ORIGINAL_PARTITION: 'x-original-partition',
  ORIGINAL_OFFSET: 'x-original-offset',
  ORIGINAL_TIMESTAMP: 'x-original-timestamp',
} as const;

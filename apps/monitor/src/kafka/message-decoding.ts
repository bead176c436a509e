import { DlqHeaders, ErrorCodes, type FieldError } from '@app/contracts';
import type { EventSource } from '@app/event-store';
import type { DeadLetter, InboundMessage } from './event-consumer.port';

const MAX_HEADER_MESSAGE_CHARS = 1000;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A record's value, JSON-parsed, or why it is not JSON. Values that are JSON but not a
 * valid envelope are judged by RecordEventsCommand like every other door's.
 */
export type Decoded =
  | { ok: true; message: InboundMessage; raw: unknown }
  | {
      ok: false;
      message: InboundMessage;
      code: typeof ErrorCodes.INVALID_JSON;
      reason: string;
      /** the value as text, kept for audit; null for a tombstone */
      text: string | null;
    };

export function decodeMessage(message: InboundMessage): Decoded {
  const invalid = (reason: string, text: string | null): Decoded => ({
    ok: false,
    message,
    code: ErrorCodes.INVALID_JSON,
    reason,
    text,
  });
  if (message.value == null) return invalid('the record has no value (tombstone)', null);
  let text: string;
  try {
    text = utf8.decode(message.value);
  } catch {
    return invalid('the record value is not UTF-8 text', message.value.toString('utf8'));
  }
  try {
    return { ok: true, message, raw: JSON.parse(text) };
  } catch (err) {
    return invalid(`the record value is not JSON: ${(err as Error).message}`, text);
  }
}

/**
 * Where a Kafka record came from, as stored with the event or the rejection: the record, and
 * the platform its topic stands for (configured: Kafka carries no identity of its own).
 */
export function kafkaSource(m: InboundMessage, platformId: string): EventSource {
  return { kind: 'kafka', platformId, topic: m.topic, partition: m.partition, offset: m.offset };
}

/** The record as dead-lettered: original key and bytes, headers naming the error and origin. */
export function deadLetter(
  m: InboundMessage,
  code: string,
  message: string,
  errors: FieldError[] = [],
): DeadLetter {
  const detail =
    errors.length > 0
      ? `${message}: ${errors.map((e) => `${e.path || '(event)'} ${e.message}`).join('; ')}`
      : message;
  return {
    key: m.key,
    value: m.value,
    headers: {
      [DlqHeaders.ERROR_CODE]: code,
      [DlqHeaders.ERROR_MESSAGE]:
        detail.length > MAX_HEADER_MESSAGE_CHARS
          ? `${detail.slice(0, MAX_HEADER_MESSAGE_CHARS - 1)}…`
          : detail,
      [DlqHeaders.ORIGINAL_TOPIC]: m.topic,
      [DlqHeaders.ORIGINAL_PARTITION]: String(m.partition),
      [DlqHeaders.ORIGINAL_OFFSET]: m.offset,
      [DlqHeaders.ORIGINAL_TIMESTAMP]: m.timestamp,
    },
  };
}

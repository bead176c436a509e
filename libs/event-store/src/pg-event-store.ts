import { storableText, storableValue } from '@app/contracts';
import { queryPrepared } from './prepared';
import { types, type Pool, type PoolClient } from 'pg';
import { copyIn, copyText } from './copy-text';
import type { Checkpoint, NewEvent, RejectedEventRow, StoredEvent, StreamAppend } from './types';

// Business dates are `YYYY-MM-DD` strings end to end: never let pg turn a `date` into a
// JavaScript Date in the server's time zone.
types.setTypeParser(types.builtins.DATE, (v: string) => v);

/** Raw payloads kept for audit are capped: the audit trail must not become a DoS vector. */
export const MAX_REJECTED_PAYLOAD_CHARS = 64 * 1024;
/** Payload characters per INSERT of rejections (see recordRejections). */
const REJECTION_STATEMENT_CHARS = 512 * 1024;

export type Sql = Pick<PoolClient, 'query'>;

/**
 * The provider token of the write pool (TypeORM's pg pool): injected into the event store and
 * the projections' write side (projector, calendar, rebuild). The API's reads use the
 * read-only ReadPool of @app/platform instead; apps/ never take this one.
 */
export const WRITE_POOL = Symbol('WRITE_POOL');

/**
 * Runs `fn` on one pooled connection inside BEGIN … COMMIT, rolling back on any error.
 * The one transaction helper of the code base (projections and the store use it).
 */
export async function withTransaction<T>(
  pool: Pool,
  fn: (c: PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** Thrown when two writers raced on the same eventId; the caller retries the round. */
export class DuplicateEventIdRace extends Error {}

/**
 * Thrown when a stream already has an event at a version being appended: the writer's
 * expected version was stale (another writer, or another instance, appended first). The
 * caller reloads the stream and decides again.
 */
export class StreamVersionConflict extends Error {}

const COPY_EVENTS =
  'COPY events (stream_id, stream_version, event_id, type, schema_version, occurred_at, data, metadata) FROM STDIN';

/** One `events` row in COPY text format (the columns of COPY_EVENTS). */
export function eventCopyLine(streamId: string, version: number, e: NewEvent): string {
  const meta = JSON.stringify({ ...e.metadata, occurredAt: e.occurredAt });
  return `${copyText(streamId)}\t${version}\t${copyText(e.eventId)}\t${copyText(e.type)}\t${e.schemaVersion}\t${copyText(e.occurredAt)}\t${copyText(JSON.stringify(e.data))}\t${copyText(meta)}\n`;
}

/** Where an event is: its global position and its place in its stream. */
export interface EventPosition {
  eventId: string;
  transactionId: string;
  globalPosition: string;
  streamId: string;
  streamVersion: number;
}

/** Row shape of the lean per-stream history the projections need. */
export interface StreamFactRow {
  streamId: string;
  streamVersion: number;
  eventId: string;
  type: string;
  globalPosition: string;
  occurredAtMs: number;
  data: Record<string, unknown>;
}

/** Row shape of the minimal per-stream history the decider needs. */
export interface StreamHistoryRow {
  streamId: string;
  streamVersion: number;
  eventId: string;
  type: string;
  data: Record<string, unknown>;
  /** the platform that sent the stream's first event (its owner), on that event only */
  platformId?: string;
}

/**
 * PostgreSQL event store. Every method takes the SQL client so that the caller controls
 * the transaction; every write is one statement whatever the batch size.
 */
export class PgEventStore {
  constructor(private readonly pool: Pool) {}

  private async q<T>(
    c: Sql,
    text: string,
    values?: unknown[],
    named = false,
  ): Promise<{ rows: T[]; rowCount: number | null }> {
    const r = named ? await queryPrepared(c, text, values) : await c.query(text, values);
    return { rows: r.rows as T[], rowCount: r.rowCount };
  }

  /** Runs `fn` in one transaction (READ COMMITTED). */
  transaction<T>(fn: (c: Sql) => Promise<T>): Promise<T> {
    return withTransaction(this.pool, fn);
  }

  /** Which of these event ids are already stored (permanent idempotency). */
  async existingEventIds(c: Sql, eventIds: string[]): Promise<Set<string>> {
    if (eventIds.length === 0) return new Set();
    const { rows } = await this.q<{ event_id: string }>(
      c,
      // one index probe per id, whatever the planner's statistics say (see loadStreams; the
      // LIMIT keeps the subquery a probe)
      `SELECT e.event_id::text FROM unnest($1::uuid[]) AS s(id)
         CROSS JOIN LATERAL (SELECT event_id FROM events WHERE events.event_id = s.id LIMIT 1) e`,
      [eventIds],
    );
    return new Set(rows.map((r) => r.event_id));
  }

  /** The stream of each of these events that is stored (eventId, lower case → stream id). */
  async streamsOfEvents(c: Sql, eventIds: string[]): Promise<Map<string, string>> {
    if (eventIds.length === 0) return new Map();
    const { rows } = await this.q<{ event_id: string; stream_id: string }>(
      c,
      `SELECT e.event_id::text, e.stream_id FROM unnest($1::uuid[]) AS s(id)
         CROSS JOIN LATERAL (SELECT event_id, stream_id FROM events WHERE events.event_id = s.id LIMIT 1) e`,
      [eventIds],
    );
    return new Map(rows.map((r) => [r.event_id, r.stream_id]));
  }

  /**
   * The history of several streams in one query, in stream order: of `data` only the fields
   * named for the event's type (the decider names what it reads; `{}` for the other types),
   * and the platform of each stream's first event.
   */
  async loadStreams(
    c: Sql,
    streamIds: string[],
    fields: Readonly<Record<string, readonly string[]>>,
  ): Promise<StreamHistoryRow[]> {
    if (streamIds.length === 0) return [];
    const { rows } = await this.q<{
      stream_id: string;
      stream_version: number;
      event_id: string;
      type: string;
      data: Record<string, unknown>;
      platform_id: string | null;
    }>(
      c,
      // A LATERAL probe per stream: `stream_id = ANY($1)` is planned from the table's
      // statistics, and before the first ANALYZE of a filling table (or with stale ones) the
      // planner chose a parallel sequential scan of every event (~55 ms at 200,000 events
      // against ~1 ms for a hundred index probes). The ORDER BY keeps the subquery from being
      // flattened into a join that the planner could again plan as a scan.
      `SELECT e.stream_id, e.stream_version, e.event_id::text, e.type,
              CASE WHEN e.stream_version = 1 THEN e.metadata->'source'->>'platformId' END AS platform_id,
              ${fieldsByTypeSql(fields, 'e')} AS data
         FROM unnest($1::text[]) AS s(id)
         CROSS JOIN LATERAL (SELECT * FROM events WHERE events.stream_id = s.id ORDER BY events.stream_version) e
        ORDER BY e.stream_id, e.stream_version`,
      [streamIds],
    );
    return rows.map((r) => ({
      streamId: r.stream_id,
      streamVersion: r.stream_version,
      eventId: r.event_id,
      type: r.type,
      data: r.data,
      ...(r.platform_id !== null ? { platformId: r.platform_id } : {}),
    }));
  }

  /**
   * Appends several streams' events with optimistic concurrency, in one statement: a COPY of
   * the events, stream by stream (stream id order, so that two writers of the same streams
   * wait for each other in one order and cannot deadlock), each at the version after the
   * expected one. The unique keys are the checks: `(stream_id, stream_version)` refuses an
   * event at a version another writer took first (StreamVersionConflict: the expected version
   * was stale), `event_id` one whose id is stored (DuplicateEventIdRace). Either aborts the
   * caller's transaction: nothing of the batch is written, the caller reloads and decides
   * again.
   */
  async append(c: Sql, appends: StreamAppend[]): Promise<void> {
    const nonEmpty = appends
      .filter((a) => a.events.length > 0)
      .sort((a, b) => (a.streamId < b.streamId ? -1 : a.streamId > b.streamId ? 1 : 0));
    if (nonEmpty.length === 0) return;
    // one COPY line per event, stream by stream (copyIn sends them in pieces: peak RSS)
    const lines = function* () {
      for (const a of nonEmpty)
        for (let i = 0; i < a.events.length; i++)
          yield eventCopyLine(a.streamId, a.expectedVersion + i + 1, a.events[i]);
    };
    try {
      await copyIn(c, COPY_EVENTS, lines());
    } catch (err) {
      const e = err as { code?: string; constraint?: string };
      if (e.code === '23505' && e.constraint === 'events_event_id_key')
        throw new DuplicateEventIdRace(String(err));
      if (e.code === '23505' && e.constraint === 'events_stream_version_key')
        throw new StreamVersionConflict(String(err));
      throw err;
    }
  }

  /**
   * Keeps rejected events for audit, in one statement. Whatever was received is kept: text
   * PostgreSQL cannot hold is escaped (storableText), payloads are capped. A Kafka record's
   * rejection is kept once, however often the record is redelivered (keyed by its offset).
   */
  async recordRejections(c: Sql, rows: RejectedEventRow[]): Promise<void> {
    // Statements of at most ~REJECTION_STATEMENT_CHARS of payload: the driver encodes a
    // statement's arrays synchronously (about 80 ms per MB here), and 1,000 rejections of
    // 64 KiB in one statement held the event loop for seconds.
    let chunk: Array<{ row: RejectedEventRow; payload: string; truncated: boolean }> = [];
    let chars = 0;
    for (const row of rows) {
      const text = storableText(payloadText(row.payload));
      const truncated = text.length > MAX_REJECTED_PAYLOAD_CHARS;
      const payload = truncated ? text.slice(0, MAX_REJECTED_PAYLOAD_CHARS) : text;
      chunk.push({ row, payload, truncated });
      chars += payload.length;
      if (chars >= REJECTION_STATEMENT_CHARS) {
        await this.insertRejections(c, chunk);
        chunk = [];
        chars = 0;
      }
    }
    if (chunk.length > 0) await this.insertRejections(c, chunk);
  }

  private async insertRejections(
    c: Sql,
    chunk: Array<{ row: RejectedEventRow; payload: string; truncated: boolean }>,
  ): Promise<void> {
    const short = (v: string | null | undefined) =>
      v == null ? null : storableText(String(v).slice(0, 100));
    const rows = chunk.map((x) => x.row);
    await this.q(
      c,
      `INSERT INTO rejected_events (event_id, contract_id, type, code, message, errors, payload, payload_truncated, source)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::text[], $8::bool[], $9::jsonb[])
       ON CONFLICT ((source->>'topic'), (source->>'partition'), (source->>'offset'))
          WHERE source->>'kind' = 'kafka' DO NOTHING`,
      [
        rows.map((r) => short(r.eventId)),
        rows.map((r) => short(r.contractId)),
        rows.map((r) => short(r.type)),
        rows.map((r) => storableText(r.code)),
        rows.map((r) => storableText(r.message)),
        rows.map((r) => JSON.stringify(storableValue(r.errors))),
        chunk.map((x) => x.payload),
        chunk.map((x) => x.truncated),
        rows.map((r) => JSON.stringify(storableValue(r.source))),
      ],
    );
  }

  /** Which of these records of a Kafka partition are already known to be dead-lettered. */
  async deadLetteredOffsets(
    c: Sql,
    topic: string,
    partition: number,
    offsets: string[],
  ): Promise<Set<string>> {
    if (offsets.length === 0) return new Set();
    const { rows } = await this.q<{ offset: string }>(
      c,
      `SELECT source->>'offset' AS offset FROM rejected_events
        WHERE source->>'kind' = 'kafka' AND source->>'topic' = $1 AND source->>'partition' = $2
          AND source->>'offset' = ANY($3::text[]) AND dead_lettered_at IS NOT NULL`,
      [topic, String(partition), offsets],
    );
    return new Set(rows.map((r) => r.offset));
  }

  /** Notes that these records' rejections reached the dead-letter topic (acknowledged). */
  async markDeadLettered(
    c: Sql,
    topic: string,
    partition: number,
    offsets: string[],
  ): Promise<void> {
    if (offsets.length === 0) return;
    await this.q(
      c,
      `UPDATE rejected_events SET dead_lettered_at = now()
        WHERE source->>'kind' = 'kafka' AND source->>'topic' = $1 AND source->>'partition' = $2
          AND source->>'offset' = ANY($3::text[]) AND dead_lettered_at IS NULL`,
      [topic, String(partition), offsets],
    );
  }

  /**
   * Reads events after `after` in the global order, gap-safely: only transactions older
   * than the oldest still running are visible, so nothing can later appear behind the
   * returned checkpoint.
   */
  async readAll(c: Sql, after: Checkpoint, limit: number): Promise<StoredEvent[]> {
    const { rows } = await this.q<RawRow>(
      c,
      `SELECT ${COLUMNS} FROM events
        WHERE (transaction_id, global_position) > ($1::xid8, $2::bigint)
          AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
        ORDER BY events.transaction_id, events.global_position
        LIMIT $3`,
      [after.transactionId, after.globalPosition, limit],
    );
    return rows.map(toStored);
  }

  /**
   * Like readAll (same gap-safe order), but only which stream and version each event is:
   * for projectors that re-read whole streams anyway.
   */
  async readAllPositions(c: Sql, after: Checkpoint, limit: number): Promise<EventPosition[]> {
    const { rows } = await this.q<{
      event_id: string;
      transaction_id: string;
      global_position: string;
      stream_id: string;
      stream_version: number;
    }>(
      c,
      `SELECT event_id::text AS event_id, transaction_id::text AS transaction_id,
              global_position::text AS global_position, stream_id, stream_version
         FROM events
        WHERE (transaction_id, global_position) > ($1::xid8, $2::bigint)
          AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
        ORDER BY events.transaction_id, events.global_position
        LIMIT $3`,
      [after.transactionId, after.globalPosition, limit],
    );
    return rows.map((r) => ({
      eventId: r.event_id,
      transactionId: r.transaction_id,
      globalPosition: r.global_position,
      streamId: r.stream_id,
      streamVersion: r.stream_version,
    }));
  }

  async readStream(c: Sql, streamId: string): Promise<StoredEvent[]> {
    const { rows } = await this.q<RawRow>(
      c,
      `SELECT ${COLUMNS} FROM events WHERE stream_id = $1 ORDER BY events.stream_version`,
      [streamId],
    );
    return rows.map(toStored);
  }

  /** The whole stored history of several streams (the OCDS export), stream by stream in order. */
  async readStreams(c: Sql, streamIds: string[]): Promise<StoredEvent[]> {
    if (streamIds.length === 0) return [];
    const { rows } = await this.q<RawRow>(
      c,
      `SELECT ${COLUMNS} FROM events WHERE stream_id = ANY($1::text[])
        ORDER BY events.stream_id, events.stream_version`,
      [streamIds],
    );
    return rows.map(toStored);
  }

  /**
   * The lean history of several streams for projections: no metadata, no recorded time,
   * business time as epoch milliseconds (no date parsing on the hot path).
   * `prepare`: as a named prepared statement (planned once per connection), for the query
   * endpoints' reads of one contract or a few; the projector's reads of thousands of streams
   * are planned for their array each time.
   */
  async readStreamFacts(
    c: Sql,
    streamIds: string[],
    opts: { prepare?: boolean } = {},
  ): Promise<StreamFactRow[]> {
    if (streamIds.length === 0) return [];
    const columns = STREAM_FACT_FIELDS.map(([key, expr]) => `${expr('e')} AS "${key}"`);
    const { rows } = await this.q<StreamFactRow>(
      c,
      `SELECT ${columns.join(', ')}
         FROM events e WHERE e.stream_id = ANY($1::text[]) ORDER BY e.stream_id, e.stream_version`,
      [streamIds],
      opts.prepare === true,
    );
    return rows;
  }
}

/**
 * The fields of a StreamFactRow and their SQL expressions over `events` row `t`: the one list
 * that readStreamFacts (columns) and streamFactsJsonSql (a json object per event) select.
 */
const STREAM_FACT_FIELDS: readonly [keyof StreamFactRow, (t: string) => string][] = [
  ['streamId', (t) => `${t}.stream_id`],
  ['streamVersion', (t) => `${t}.stream_version`],
  ['eventId', (t) => `${t}.event_id::text`],
  ['type', (t) => `${t}.type`],
  ['globalPosition', (t) => `${t}.global_position::text`],
  // business time as epoch milliseconds: no date parsing on the hot path
  ['occurredAtMs', (t) => `(extract(epoch FROM ${t}.occurred_at) * 1000)::float8`],
  ['data', (t) => `${t}.data`],
];

/**
 * A scalar subquery: the lean history of stream `streamId` up to version `upTo` (SQL
 * expressions of the enclosing query) as a json array of StreamFactRow objects in stream
 * order, what readStreamFacts returns for one stream. For a query that reads a read-model row
 * and the history it was computed from in one statement: one snapshot, one round trip.
 */
export function streamFactsJsonSql(streamId: string, upTo: string): string {
  const pairs = STREAM_FACT_FIELDS.map(([key, expr]) => `'${key}', ${expr('sf')}`);
  return `(SELECT coalesce(json_agg(json_build_object(${pairs.join(', ')}) ORDER BY sf.stream_version), '[]'::json)
     FROM events sf WHERE sf.stream_id = ${streamId} AND sf.stream_version <= ${upTo})`;
}

const fieldSqlCache = new WeakMap<object, string>();
const NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

/**
 * `CASE e.type WHEN 'T' THEN jsonb_strip_nulls(jsonb_build_object('f', e.data->'f', …)) …
 * ELSE '{}' END` for type and field names of ours (checked: they are spliced into the SQL).
 */
function fieldsByTypeSql(fields: Readonly<Record<string, readonly string[]>>, e: string): string {
  let sql = fieldSqlCache.get(fields);
  if (sql === undefined) {
    const branches = Object.entries(fields)
      .filter(([, names]) => names.length > 0)
      .map(([type, names]) => {
        for (const n of [type, ...names]) if (!NAME.test(n)) throw new Error(`not a name: ${n}`);
        const pairs = names.map((f) => `'${f}', ${e}.data->'${f}'`).join(', ');
        return `WHEN '${type}' THEN jsonb_strip_nulls(jsonb_build_object(${pairs}))`;
      });
    sql =
      branches.length === 0
        ? `'{}'::jsonb`
        : `CASE ${e}.type ${branches.join(' ')} ELSE '{}'::jsonb END`;
    fieldSqlCache.set(fields, sql);
  }
  return sql;
}

// The text casts keep bigint/xid8 exact in JavaScript. They shadow the column names in
// ORDER BY, so every ORDER BY names `events.<column>` (a text sort would put 10000 before 9996).
const COLUMNS = `global_position::text, transaction_id::text, stream_id, stream_version, event_id::text, type,
  schema_version, occurred_at, recorded_at, data, metadata`;

interface RawRow {
  global_position: string;
  transaction_id: string;
  stream_id: string;
  stream_version: number;
  event_id: string;
  type: string;
  schema_version: number;
  occurred_at: Date;
  recorded_at: Date;
  data: Record<string, unknown>;
  metadata: StoredEvent['metadata'];
}

function toStored(r: RawRow): StoredEvent {
  return {
    globalPosition: r.global_position,
    transactionId: r.transaction_id,
    streamId: r.stream_id,
    streamVersion: r.stream_version,
    eventId: r.event_id,
    type: r.type,
    schemaVersion: r.schema_version,
    occurredAt: r.metadata?.occurredAt ?? r.occurred_at.toISOString(),
    recordedAt: r.recorded_at.toISOString(),
    data: r.data,
    metadata: r.metadata,
  };
}

/** The raw payload as JSON text (strings quoted, so "42" and 42 stay distinct); never throws. */
export function payloadText(payload: unknown): string {
  try {
    return JSON.stringify(payload) ?? String(payload);
  } catch (err) {
    return `[unserialisable payload: ${(err as Error).message}]`;
  }
}

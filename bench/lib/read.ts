import QueryStream from 'pg-query-stream';
import { PgEventStore } from '@app/event-store';
import { CalendarService, ComplianceProjector } from '@app/projections';
import { LIVE_TARGET } from '../../libs/projections/src/projector';
import type { Throughput } from './ingest';
import { pool } from './pg';

const now = () => performance.now();

/**
 * The read limit: every row of `events` with the columns the projector reads, streamed
 * through a cursor (pg-query-stream), jsonb decoded by pg.
 */
export async function rawRead(url: string, batchSize = 5000): Promise<Throughput> {
  const p = pool(url, 1);
  const client = await p.connect();
  let events = 0;
  try {
    const t0 = now();
    await client.query('BEGIN');
    const stream = client.query(
      new QueryStream(
        `SELECT global_position::text, transaction_id::text, stream_id, stream_version, event_id::text, type,
                schema_version, occurred_at, recorded_at, data, metadata FROM events`,
        [],
        { batchSize },
      ),
    );
    for await (const _row of stream as AsyncIterable<{ data: Record<string, unknown> }>) {
      events++;
    }
    await client.query('COMMIT');
    const ms = now() - t0;
    return {
      events,
      seconds: ms / 1000,
      eventsPerSec: events / (ms / 1000),
      note: `cursor batches of ${batchSize}`,
    };
  } finally {
    client.release();
    await p.end();
  }
}

/**
 * Projector catch-up from zero: ComplianceProjector.runBatch on the live target until it
 * reports 0, as ProjectorDaemon.catchUp does (calendar table ensured first, untimed).
 */
export async function projectorCatchUp(
  url: string,
  batchSize: number,
): Promise<Throughput & { batches: number }> {
  const p = pool(url, 4);
  try {
    const store = new PgEventStore(p);
    const cal = new CalendarService(p);
    await cal.ensureTable();
    const projector = new ComplianceProjector(p, store, () => cal.current);
    let events = 0;
    let batches = 0;
    const t0 = now();
    for (;;) {
      const n = await projector.runBatch(LIVE_TARGET, batchSize);
      if (n === 0) break;
      events += n;
      batches++;
    }
    const ms = now() - t0;
    return {
      events,
      batches,
      seconds: ms / 1000,
      eventsPerSec: events / (ms / 1000),
      note: `runBatch(${batchSize})`,
    };
  } finally {
    await p.end();
  }
}

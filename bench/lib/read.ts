import QueryStream from 'pg-query-stream';
import { PgEventStore } from '@app/event-store';
import {
  CalendarService,
  ComplianceProjector,
  NotificationDecider,
  PolicyService,
} from '@app/projections';
import { LIVE_TARGET } from '../../libs/projections/src/projector';
import { CpuMeter } from './cpu';
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
  const cpu = new CpuMeter();
  try {
    cpu.start();
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
    cpu.stop();
    return {
      events,
      seconds: ms / 1000,
      eventsPerSec: events / (ms / 1000),
      note: `cursor batches of ${batchSize}`,
      cpu: cpu.perEvent(events),
    };
  } finally {
    client.release();
    await p.end();
  }
}

/**
 * Projector catch-up from zero: ComplianceProjector.step on the live target until it reports
 * 0, as ProjectorDaemon.catchUp does (calendar and policies ensured first, untimed): from zero that
 * is the stream-ordered catch-up pass, then the tail's batches for whatever is left.
 */
export async function projectorCatchUp(
  url: string,
  batchSize: number,
  notifications?: NotificationDecider,
): Promise<Throughput & { batches: number }> {
  const p = pool(url, 4);
  try {
    const store = new PgEventStore(p);
    // wired as ProjectionsModule wires them: the applied calendar and policy layers, ensured
    // (applied, recorded) first, so the store is left as the service's own projector leaves
    // it and a service started on it later has nothing to re-apply at boot
    const policies = new PolicyService(p);
    const cal = new CalendarService(p, policies);
    const projector = new ComplianceProjector(
      p,
      store,
      (c) => cal.forTransaction(c),
      (c) => policies.applied(c),
      notifications,
    );
    await cal.ensureTable(projector);
    let events = 0;
    let batches = 0;
    const cpu = new CpuMeter();
    cpu.start();
    const t0 = now();
    for (;;) {
      const n = await projector.step(LIVE_TARGET, batchSize);
      if (n === 0) break;
      events += n;
      batches++;
    }
    const ms = now() - t0;
    cpu.stop();
    return {
      events,
      batches,
      seconds: ms / 1000,
      eventsPerSec: events / (ms / 1000),
      note: `step(${batchSize})`,
      cpu: cpu.perEvent(events),
    };
  } finally {
    await p.end();
  }
}

/** Subscriptions the notification bench decides for (the URL is never sent to: they are deleted after). */
const BENCH_SUBSCRIPTIONS = [
  // every kind, every unit: each open, overdue or late obligation matches
  {
    events: ['obligation.due_soon', 'obligation.overdue', 'obligation.fulfilled_late'],
    region: null,
  },
  // overdue only, one region prefix
  { events: ['obligation.overdue'], region: '5001' },
];

/**
 * The projector's cost with subscriptions: the read models and checkpoint emptied, two
 * subscriptions stored with `since` 2021-01-01 (so the feed's whole history counts, not only
 * what passes from today on: an upper bound), and the same catch-up run with the notification
 * decider; then the subscriptions are deleted and their deliveries cancelled, so a service
 * started on this store afterwards sends nothing.
 */
export async function projectorCatchUpWithSubscriptions(
  url: string,
  batchSize: number,
): Promise<Throughput & { batches: number; decided: number; decidedPerSec: number }> {
  const p = pool(url, 2);
  try {
    await p.query(`TRUNCATE rm.obligations, rm.invoices, rm.payments, rm.allocations, rm.contracts,
                          rm.unit_rule_counts`);
    await p.query(`DELETE FROM projection_checkpoints`);
    await p.query(`DELETE FROM webhook_deliveries`);
    await p.query(`DELETE FROM webhook_subscriptions`);
    for (const s of BENCH_SUBSCRIPTIONS)
      await p.query(
        `INSERT INTO webhook_subscriptions
           (id, url, secret, events, region, due_soon_working_days, since, created_at, created_by)
         VALUES (gen_random_uuid(), 'http://127.0.0.1:9/bench', 'bench', $1, $2, 3, '2021-01-01', now(), 'bench')`,
        [s.events, s.region],
      );
  } finally {
    await p.end();
  }
  const decider = new NotificationDecider(() => Date.now(), 'http://127.0.0.1:3000');
  const r = await projectorCatchUp(url, batchSize, decider);
  const q = pool(url, 1);
  try {
    await q.query(`UPDATE webhook_subscriptions SET state = 'deleted', deleted_at = now()`);
    await q.query(`UPDATE webhook_deliveries SET status = 'cancelled'`);
  } finally {
    await q.end();
  }
  return {
    ...r,
    decided: decider.decided,
    decidedPerSec: decider.decided / r.seconds,
    note: `${r.note}, ${BENCH_SUBSCRIPTIONS.length} subscriptions (since 2021-01-01)`,
  };
}

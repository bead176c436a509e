/**
 * The projector's stream-ordered catch-up pass (ComplianceProjector.step), on a real
 * PostgreSQL, over random realistic histories (libs/testing history-generator):
 *  - the pass gives byte-equal read models (and per-unit counts) to the incremental batches;
 *  - events stored while a pass runs are handed to the tail exactly once, all after the
 *    pass's head, none before it;
 *  - a pass that fails in a chunk (an error thrown, a connection killed) or dies with its
 *    process (a new projector) ends with the same read models and the same outbox as the
 *    incremental projection: every notification decided once;
 *  - a pass is taken from START or from CATCH_UP_LAG events behind, and one whose checkpoint
 *    row was deleted and created again (a reset, a rebuild started over) is started afresh;
 *  - a pass refreshes the read models' statistics as they grow and at its end.
 * Read models are compared row for row, excluding `updated_at`.
 */
import { RecordEventsHandler } from '../../apps/monitor/src/ingestion/record-events/record-events.handler';
import {
  RecordEventsCommand,
  type IngestItem,
} from '../../apps/monitor/src/ingestion/record-events/record-events.command';
import {
  EVENT_STORE_MIGRATIONS,
  PgEventStore,
  withTransaction,
  type Checkpoint,
} from '@app/event-store';
import { builtInYears, createCalendar } from '@app/calendar';
import type { WorkCalendar } from '@app/domain';
import type { Clock } from '@app/platform';
import {
  CalendarService,
  ComplianceProjector,
  NotificationDecider,
  READ_MODEL_MIGRATIONS,
} from '@app/projections';
import {
  contractHistories,
  createTestDatabase,
  interleavedArrival,
  migrate,
  testPool,
  type Envelope,
  type TestDatabase,
} from '@app/testing';
import fc from 'fast-check';
import type { Pool, PoolClient } from 'pg';
import { LIVE_TARGET, type ProjectionTarget } from '../../libs/projections/src/projector';
import { READ_MODEL_COLUMNS } from '../../libs/projections/src/read-model-writer';
import { readModelDdl } from '../../libs/projections/src/read-model-ddl';

const SEED = Number(process.env.PROJECTOR_PROPS_SEED ?? 20261202);
const RUNS = 4;
const CONTRACTS = 30;
const clock: Clock = { now: () => Date.parse('2027-06-01T04:00:00Z') };
const TABLES = ['contracts', 'obligations', 'invoices', 'payments', 'allocations'] as const;
const REF: ProjectionTarget = { schema: 'rm_ref', checkpoint: 'ref' };
const PASS: ProjectionTarget = { schema: 'rm_pass', checkpoint: 'pass' };

jest.setTimeout(180_000);

describe('catch-up pass (real PostgreSQL)', () => {
  let db: TestDatabase;
  let pool: Pool;
  let store: PgEventStore;
  let calendar: CalendarService;
  let handler: RecordEventsHandler;
  /** what readAllPositions handed out (the tail), while `recording` */
  const handed: { id: string; tx: bigint; pos: bigint }[] = [];
  let recording = false;

  const scenario = contractHistories('CQ-CU', CONTRACTS).chain((histories) =>
    fc.record({
      order: interleavedArrival(histories),
      chunk: fc.integer({ min: 3, max: 40 }),
      passChunk: fc.integer({ min: 1, max: 60 }),
    }),
  );
  const scenarios = fc.sample(scenario, { seed: SEED, numRuns: RUNS });

  beforeAll(async () => {
    db = await createTestDatabase('pcu');
    await migrate(db.url, [...EVENT_STORE_MIGRATIONS, ...READ_MODEL_MIGRATIONS]);
    pool = testPool(db.url, 6);
    store = new PgEventStore(pool);
    calendar = new CalendarService(pool);
    await calendar.ensureTable();
    handler = new RecordEventsHandler(store, clock);
    const readAllPositions = store.readAllPositions.bind(store);
    store.readAllPositions = async (c, after, limit) => {
      const events = await readAllPositions(c, after, limit);
      if (recording)
        for (const e of events)
          handed.push({
            id: e.eventId,
            tx: BigInt(e.transactionId),
            pos: BigInt(e.globalPosition),
          });
      return events;
    };
  });
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  const projector = (
    opts: {
      notifications?: NotificationDecider;
      catchUpLag?: number;
      analyzeFirstAt?: number;
    } = {},
  ) =>
    new ComplianceProjector(pool, store, () => calendar.current, undefined, opts.notifications, {
      catchUpLag: opts.catchUpLag,
      analyzeFirstAt: opts.analyzeFirstAt,
    });

  async function reset(): Promise<void> {
    await pool.query(
      `TRUNCATE events, projection_checkpoints, webhook_deliveries, webhook_subscriptions CASCADE`,
    );
    await pool.query(
      `TRUNCATE rm.contracts, rm.obligations, rm.invoices, rm.payments, rm.allocations, rm.unit_rule_counts`,
    );
    for (const t of [REF, PASS]) {
      await pool.query(`DROP SCHEMA IF EXISTS "${t.schema}" CASCADE`);
      for (const sql of readModelDdl(t.schema)) await pool.query(sql);
    }
    // an emptied store is a new store: ingestion without remembered decision states
    handler = new RecordEventsHandler(store, clock);
  }

  async function ingest(envs: Envelope[]): Promise<void> {
    if (envs.length === 0) return;
    const items: IngestItem[] = envs.map((raw) => ({ raw, source: { kind: 'http' } }));
    const out = await handler.execute(new RecordEventsCommand(items));
    const refused = out.filter((o) => o.status !== 'accepted');
    if (refused.length) throw new Error(`refused: ${JSON.stringify(refused.slice(0, 2))}`);
  }

  async function ingestInChunks(envs: Envelope[], chunk: number): Promise<void> {
    for (let i = 0; i < envs.length; i += chunk) await ingest(envs.slice(i, i + chunk));
  }

  /**
   * Steps (or batches) until the checkpoint is at the head of the store (a step of 0 is not
   * "caught up": gap safety waits for older open transactions of the whole cluster).
   */
  async function drain(
    p: ComplianceProjector,
    target: ProjectionTarget,
    size: number,
    how: 'step' | 'runBatch' = 'step',
  ): Promise<number> {
    let steps = 0;
    for (const until = Date.now() + 60_000; Date.now() < until;) {
      if ((await p[how](target, size)) > 0) {
        steps++;
        continue;
      }
      if ((await p.lag(target.checkpoint)).behind === 0) return steps;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`${target.checkpoint} did not catch up`);
  }

  /** The first step that consumes anything (gap safety may hold everything back a moment). */
  async function firstStep(
    p: ComplianceProjector,
    target: ProjectionTarget,
    size: number,
  ): Promise<void> {
    for (const until = Date.now() + 30_000; Date.now() < until;) {
      if ((await p.step(target, size)) > 0) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`${target.checkpoint}: nothing to project`);
  }

  /** The ids of the stored events after `head` in (transaction, position) order. */
  async function storedAfter(head: Checkpoint): Promise<string[]> {
    const { rows } = await pool.query<{ id: string }>(
      `SELECT event_id::text AS id FROM events
        WHERE (transaction_id, global_position) > ($1::xid8, $2::bigint) ORDER BY 1`,
      [head.transactionId, head.globalPosition],
    );
    return rows.map((r) => r.id);
  }

  /** Every read-model row and every non-zero unit count, canonical JSON without updated_at, sorted. */
  async function snapshot(schema: string): Promise<Record<string, string[]>> {
    const out: Record<string, string[]> = {};
    for (const t of TABLES) {
      const { rows } = await pool.query<{ r: string }>(
        `SELECT (to_jsonb(x) - 'updated_at')::text AS r FROM "${schema}".${t} x ORDER BY 1`,
      );
      out[t] = rows.map((r) => r.r);
    }
    const { rows } = await pool.query<{ r: string }>(
      `SELECT to_jsonb(x)::text AS r FROM "${schema}".unit_rule_counts x WHERE n <> 0 ORDER BY 1`,
    );
    out.unit_rule_counts = rows.map((r) => r.r);
    return out;
  }

  async function checkpointOf(name: string): Promise<Checkpoint> {
    const { rows } = await pool.query<{ t: string; g: string }>(
      `SELECT transaction_id::text AS t, global_position::text AS g FROM projection_checkpoints WHERE name = $1`,
      [name],
    );
    return { transactionId: rows[0].t, globalPosition: rows[0].g };
  }

  async function deliveries(): Promise<string[]> {
    const { rows } = await pool.query<{ k: string }>(
      `SELECT subscription_id || ' ' || contract_id || ' ' || obligation_key || ' ' || kind AS k
         FROM webhook_deliveries ORDER BY 1`,
    );
    return rows.map((r) => r.k);
  }

  async function subscribe(): Promise<void> {
    await pool.query(
      `INSERT INTO webhook_subscriptions
         (id, url, secret, events, due_soon_working_days, since, created_at, created_by)
       VALUES (gen_random_uuid(), 'http://127.0.0.1:9/x', 's',
               ARRAY['obligation.due_soon', 'obligation.overdue', 'obligation.fulfilled_late'],
               3, '2020-01-01', now(), 'test')`,
    );
  }

  it('writes exactly the columns of the read-model tables', async () => {
    await reset();
    for (const [table, columns] of Object.entries(READ_MODEL_COLUMNS)) {
      const { rows } = await pool.query<{ column_name: string; udt_name: string }>(
        `SELECT column_name, udt_name FROM information_schema.columns
          WHERE table_schema = 'rm' AND table_name = $1 ORDER BY column_name`,
        [table],
      );
      const udt: Record<string, string> = {
        text: 'text',
        boolean: 'bool',
        bigint: 'int8',
        integer: 'int4',
        smallint: 'int2',
        date: 'date',
        jsonb: 'jsonb',
        timestamptz: 'timestamptz',
      };
      expect(
        Object.entries(columns)
          .map(([n, t]) => `${n} ${udt[t]}`)
          .sort(),
      ).toEqual(rows.map((r) => `${r.column_name} ${r.udt_name}`).sort());
    }
  });

  it('a pass from zero gives the read models of the incremental batches (random histories)', async () => {
    let chunks = 0;
    for (const [i, { order, chunk, passChunk }] of scenarios.entries()) {
      await reset();
      await ingestInChunks(order, chunk);
      const incremental = projector();
      await drain(incremental, REF, 5, 'runBatch');
      const p = projector();
      handed.length = 0;
      recording = true;
      await firstStep(p, PASS, passChunk);
      const head = p.pass(PASS.checkpoint)?.head ?? (await checkpointOf(PASS.checkpoint));
      chunks += 1 + (await drain(p, PASS, passChunk));
      recording = false;
      // everything was stored before the pass: the tail is handed only what gap safety held
      // back from the pass's head (usually nothing), each event once
      expect(handed.map((h) => h.id).sort()).toEqual(await storedAfter(head));
      expect(await snapshot(PASS.schema)).toEqual(await snapshot(REF.schema));
      expect({ run: i, rows: (await snapshot(REF.schema)).obligations.length > CONTRACTS }).toEqual(
        { run: i, rows: true },
      );
    }
    expect(chunks).toBeGreaterThan(RUNS * 3); // several chunks a pass: not vacuous
  });

  it('events stored during a pass are handed to the tail exactly once, all after the head', async () => {
    const { order, chunk } = scenarios[0];
    await reset();
    const half = Math.floor(order.length / 2);
    await ingestInChunks(order.slice(0, half), chunk);
    const p = projector();
    handed.length = 0;
    recording = true;
    await firstStep(p, PASS, 4);
    const head = p.pass(PASS.checkpoint)!.head;
    let writing = true;
    const writer = (async () => {
      try {
        for (let i = half; i < order.length; i += 3) {
          await ingest(order.slice(i, i + 3));
          await new Promise((r) => setTimeout(r, 1));
        }
      } finally {
        writing = false;
      }
    })();
    let during = 0;
    while (writing) {
      if (p.pass(PASS.checkpoint)) during++;
      if ((await p.step(PASS, 4)) === 0) await new Promise((r) => setTimeout(r, 2));
    }
    await writer;
    await drain(p, PASS, 4);
    recording = false;
    expect(during).toBeGreaterThan(0);
    const later = await storedAfter(head);
    expect(later.length).toBeGreaterThan(0);
    expect(handed.map((h) => h.id).sort()).toEqual(later);
    expect(new Set(handed.map((h) => h.id)).size).toBe(handed.length);
    await drain(projector(), REF, 1000, 'runBatch');
    expect(await snapshot(PASS.schema)).toEqual(await snapshot(REF.schema));
  });

  it('a pass that fails or dies part-way resumes: same read models, each notification decided once', async () => {
    const { order, chunk } = scenarios[1];
    await reset();
    await subscribe();
    await ingestInChunks(order, chunk);
    // the reference: the incremental batches into the live schema, deciding notifications
    const decider = () => new NotificationDecider(() => clock.now(), 'http://monitor.test');
    await drain(projector({ notifications: decider() }), LIVE_TARGET, 7, 'runBatch');
    const wantRows = await snapshot('rm');
    const wantDeliveries = await deliveries();
    expect(wantDeliveries.length).toBeGreaterThan(5);
    await pool.query(`DELETE FROM projection_checkpoints`);
    await pool.query(
      `TRUNCATE rm.contracts, rm.obligations, rm.invoices, rm.payments, rm.allocations, rm.unit_rule_counts, webhook_deliveries`,
    );

    // a decider (the last statement of a chunk's transaction, after its writes) that fails
    // its 3rd call with an error, and kills its connection in its 5th; the chunks' reads are
    // not the place: the next chunk's read ahead runs on another connection, and a failed
    // read ahead only makes the chunk read its histories itself
    const failing = decider();
    let calls = 0;
    const decide = failing.decide.bind(failing);
    failing.decide = async (c, schema, scope) => {
      calls++;
      if (calls === 3) throw new Error('injected failure');
      if (calls === 5) {
        // killed while a statement runs, as a crash of the database session looks
        const { rows } = await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        // pg also emits the end of the socket on the checked-out client: heard here
        (c as PoolClient).on('error', () => undefined);
        const sleeping = c.query('SELECT pg_sleep(60)');
        for (let i = 0; i < 500; i++) {
          const { rows: busy } = await pool.query(
            `SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND query LIKE 'SELECT pg_sleep%'`,
            [rows[0].pid],
          );
          if (busy.length) break;
          await new Promise((r) => setTimeout(r, 10));
        }
        await pool.query('SELECT pg_terminate_backend($1)', [rows[0].pid]);
        await sleeping;
      }
      return decide(c, schema, scope);
    };
    const a = projector({ notifications: failing });
    await firstStep(a, LIVE_TARGET, 6);
    await a.step(LIVE_TARGET, 6);
    const done = a.pass(LIVE_TARGET.checkpoint)!.done;
    await expect(a.step(LIVE_TARGET, 6)).rejects.toThrow('injected failure');
    expect(a.pass(LIVE_TARGET.checkpoint)!.done).toBe(done); // the chunk rolled back
    await a.step(LIVE_TARGET, 6); // the same chunk again
    await expect(a.step(LIVE_TARGET, 6)).rejects.toThrow(/terminat|connection/i);
    expect(a.pass(LIVE_TARGET.checkpoint)).toBeDefined();
    expect(await checkpointOf(LIVE_TARGET.checkpoint)).toEqual({
      transactionId: '0',
      globalPosition: '0',
    });
    const partial = await deliveries();
    expect(partial.length).toBeGreaterThan(0);

    // the process dies: a new projector (no pass in memory) starts a pass over from the checkpoint
    const b = projector({ notifications: decider() });
    await drain(b, LIVE_TARGET, 6);
    expect(await snapshot('rm')).toEqual(wantRows);
    expect(await deliveries()).toEqual(wantDeliveries);
    // and replayed again from zero: nothing new decided
    await pool.query(`DELETE FROM projection_checkpoints`);
    await drain(projector({ notifications: decider() }), LIVE_TARGET, 50);
    expect(await snapshot('rm')).toEqual(wantRows);
    expect(await deliveries()).toEqual(wantDeliveries);
  });

  it('analyzes the read models once they have grown, as they double, and at the end of the pass', async () => {
    await reset();
    await ingest(scenarios[0].order);
    /** what the planner believes rm_pass.obligations holds (-1: never analyzed) and what it does */
    const stats = async () => {
      const { rows } = await pool.query<{ believed: number; n: number }>(
        `SELECT (SELECT reltuples FROM pg_class WHERE oid = '"${PASS.schema}".obligations'::regclass)::int AS believed,
                (SELECT count(*) FROM "${PASS.schema}".obligations)::int AS n`,
      );
      return rows[0];
    };
    expect((await stats()).believed).toBe(-1);
    const { rows: sizes } = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM events GROUP BY stream_id ORDER BY stream_id`,
    );
    const p = projector({ analyzeFirstAt: sizes[0].n + sizes[1].n });
    // chunks of about one contract: the first analyze comes with the second contract
    await firstStep(p, PASS, 1);
    expect((await stats()).believed).toBe(-1);
    expect(await p.step(PASS, 1)).toBeGreaterThan(0);
    const early = await stats();
    expect(early.believed).toBe(early.n);
    await drain(p, PASS, 1);
    const end = await stats();
    expect(end.n).toBeGreaterThan(early.n);
    expect(end.believed).toBe(end.n);
  });

  it('takes a pass from CATCH_UP_LAG events behind, the batches below it', async () => {
    const { order, chunk } = scenarios[2];
    await reset();
    const third = Math.floor(order.length / 3);
    await ingestInChunks(order.slice(0, third), chunk);
    const p = projector({ catchUpLag: third });
    await drain(p, PASS, 1000);
    expect(p.pass(PASS.checkpoint)).toBeUndefined();
    // fewer than the lag behind: batches
    await ingestInChunks(order.slice(third, 2 * third - 1), chunk);
    await p.step(PASS, 5);
    expect(p.pass(PASS.checkpoint)).toBeUndefined();
    await drain(p, PASS, 1000);
    // the lag or more behind: a pass over the contracts of those events only
    await ingestInChunks(order.slice(2 * third - 1), chunk);
    await firstStep(p, PASS, 5);
    const pass = p.pass(PASS.checkpoint);
    expect(pass).toBeDefined();
    const { rows } = await pool.query<{ n: number }>(
      `SELECT count(DISTINCT stream_id)::int AS n FROM events
        WHERE (transaction_id, global_position) > ($1::xid8, $2::bigint)
          AND (transaction_id, global_position) <= ($3::xid8, $4::bigint)`,
      [
        pass!.from.transactionId,
        pass!.from.globalPosition,
        pass!.head.transactionId,
        pass!.head.globalPosition,
      ],
    );
    expect(pass!.streams.length).toBe(rows[0].n);
    await drain(p, PASS, 5);
    await drain(projector(), REF, 1000, 'runBatch');
    expect(await snapshot(PASS.schema)).toEqual(await snapshot(REF.schema));
  });

  it('a pass whose checkpoint row was deleted and created again starts afresh', async () => {
    const { order, chunk } = scenarios[3];
    await reset();
    await ingestInChunks(order, chunk);
    const p = projector();
    await firstStep(p, PASS, 10);
    await p.step(PASS, 10);
    expect(p.pass(PASS.checkpoint)!.done).toBeGreaterThan(0);
    // a rebuild started over: the schema and the checkpoint are new, both at zero
    await pool.query(`DELETE FROM projection_checkpoints WHERE name = $1`, [PASS.checkpoint]);
    await pool.query(`DROP SCHEMA "${PASS.schema}" CASCADE`);
    for (const sql of readModelDdl(PASS.schema)) await pool.query(sql);
    await pool.query(`INSERT INTO projection_checkpoints (name) VALUES ($1)`, [PASS.checkpoint]);
    await drain(p, PASS, 10);
    await drain(projector(), REF, 1000, 'runBatch');
    expect(await snapshot(PASS.schema)).toEqual(await snapshot(REF.schema));
  });

  it('a chunk read ahead with a calendar since replaced is assessed again with the applied one', async () => {
    const { order, chunk } = scenarios[0];
    await reset();
    await ingestInChunks(order, chunk);
    // every Wednesday of the package's years a rest day: working-day deadlines move
    const later = createCalendar(
      builtInYears().map((y) => ({
        ...y,
        restDays: [...new Set([...y.restDays, ...wednesdays(y.year)])].sort(),
      })),
    );
    const drainWith = async (cal: WorkCalendar) => {
      await pool.query(`DELETE FROM projection_checkpoints WHERE name = $1`, [REF.checkpoint]);
      await pool.query(`DROP SCHEMA "${REF.schema}" CASCADE`);
      for (const sql of readModelDdl(REF.schema)) await pool.query(sql);
      await drain(new ComplianceProjector(pool, store, () => cal), REF, 1000, 'runBatch');
      return snapshot(REF.schema);
    };
    const withEarlier = await drainWith(calendar.current);

    let applied: WorkCalendar = calendar.current;
    const p = new ComplianceProjector(pool, store, () => applied);
    await firstStep(p, PASS, 10); // the first chunk, and the second read ahead, with the earlier
    const pass = p.pass(PASS.checkpoint)!;
    expect(pass.ahead).toBeDefined();
    const first = pass.streams.slice(0, pass.done);
    applied = later; // an apply between the two chunks' transactions
    await drain(p, PASS, 10);
    // the first chunk was the earlier calendar's when it was written: recomputed with the later
    await withTransaction(pool, (c) => p.recompute(c, PASS.schema, first, new Set(first)));

    const withLater = await drainWith(later);
    expect(withLater).not.toEqual(withEarlier); // the change moved some deadline
    expect(await snapshot(PASS.schema)).toEqual(withLater);
  });
});

/** The Wednesdays of a year, `YYYY-MM-DD`. */
function wednesdays(year: number): string[] {
  const out: string[] = [];
  for (
    let d = new Date(Date.UTC(year, 0, 1));
    d.getUTCFullYear() === year;
    d.setUTCDate(d.getUTCDate() + 1)
  )
    if (d.getUTCDay() === 3) out.push(d.toISOString().slice(0, 10));
  return out;
}

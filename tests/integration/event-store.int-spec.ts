import { DecisionStateCache } from '../../apps/monitor/src/ingestion/record-events/decision-state-cache';
import { RecordEventsHandler } from '../../apps/monitor/src/ingestion/record-events/record-events.handler';
import {
  RecordEventsCommand,
  type IngestItem,
} from '../../apps/monitor/src/ingestion/record-events/record-events.command';
import {
  EVENT_STORE_MIGRATIONS,
  PgEventStore,
  START,
  StreamVersionConflict,
  type NewEvent,
} from '@app/event-store';
import type { Clock } from '@app/platform';
import {
  createTestDatabase,
  ev,
  migrate,
  testPool,
  type Envelope,
  type TestDatabase,
} from '@app/testing';
import type { Pool, PoolClient } from 'pg';

const clock: Clock = { now: () => Date.parse('2026-11-26T12:00:00Z') };
const http = { kind: 'http' as const };
const items = (envs: Envelope[]): IngestItem[] => envs.map((raw) => ({ raw, source: http }));

function newEvent(e: Envelope): NewEvent {
  return { ...e, streamId: e.contractId, metadata: { source: http } };
}

/**
 * Counts the statements sent through a pool's connections, observed from outside the store:
 * every connection's `query` is wrapped as the pool opens it. ROLLBACK is left out, as the
 * round-trip bounds below were first written against the store's own count.
 */
function countStatements(pool: Pool): { readonly n: number } {
  const counter = { n: 0 };
  pool.on('connect', (client: PoolClient) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args) => {
      const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string })?.text;
      if (text?.trim().toUpperCase() !== 'ROLLBACK') counter.n++;
      return query(...args);
    };
  });
  return counter;
}

describe('PostgreSQL event store', () => {
  let db: TestDatabase;
  let pool: Pool;
  let store: PgEventStore;
  let statements: { readonly n: number };
  let handler: RecordEventsHandler;

  beforeAll(async () => {
    db = await createTestDatabase('es');
    await migrate(db.url, EVENT_STORE_MIGRATIONS);
    pool = testPool(db.url, 20);
    statements = countStatements(pool);
    store = new PgEventStore(pool);
    handler = new RecordEventsHandler(store, clock);
  });
  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  const count = async (sql: string, params: unknown[] = []) =>
    Number((await pool.query(sql, params)).rows[0].n);

  describe('(a) concurrent appends to one stream', () => {
    it('rejects the stale writer at the store level and writes nothing for it', async () => {
      const award = ev.award('C-A1', '2021-09-13');
      await store.transaction((c) =>
        store.append(c, [{ streamId: 'C-A1', expectedVersion: 0, events: [newEvent(award)] }]),
      );
      const stale = ev.signed('C-A1', '2021-09-20');
      const winner = ev.filed('C-A1', '2021-09-21');
      await store.transaction((c) =>
        store.append(c, [{ streamId: 'C-A1', expectedVersion: 1, events: [newEvent(winner)] }]),
      );
      await expect(
        store.transaction((c) =>
          store.append(c, [{ streamId: 'C-A1', expectedVersion: 1, events: [newEvent(stale)] }]),
        ),
      ).rejects.toBeInstanceOf(StreamVersionConflict);
      expect(await count(`SELECT count(*) n FROM events WHERE stream_id = 'C-A1'`)).toBe(2);
    });

    /**
     * An awarded contract, then 12 concurrent requests with two invoices each (INV-i-a,
     * INV-i-b), request i to `instance(i)`: every outcome, the statements the requests sent,
     * and the stored events in version order.
     */
    const twelveConcurrentRequests = async (
      contract: string,
      instance: (i: number) => RecordEventsHandler,
    ) => {
      await handler.execute(new RecordEventsCommand(items([ev.award(contract, '2021-09-13')])));
      const batches = Array.from({ length: 12 }, (_, i) => [
        ev.invoice(contract, '2021-10-01', `INV-${i}-a`, '10.00'),
        ev.invoice(contract, '2021-10-02', `INV-${i}-b`, '20.00'),
      ]);
      const before = statements.n;
      const results = await Promise.all(
        batches.map((b, i) => instance(i).execute(new RecordEventsCommand(items(b)))),
      );
      const used = statements.n - before; // the checks below send statements of their own
      const { rows } = await pool.query<{ stream_version: number; inv: string | null }>(
        `SELECT stream_version, data->>'invoiceNo' AS inv FROM events WHERE stream_id = $1 ORDER BY stream_version`,
        [contract],
      );
      return { outcomes: results.flat(), used, rows };
    };

    it('lets one writer win and the other retry: every event stored, versions contiguous', async () => {
      const contract = 'C-A2';
      // each request to an instance of its own (one instance orders its own writes to a
      // contract: ContractQueue)
      const instances = Array.from({ length: 12 }, () => new RecordEventsHandler(store, clock));
      const { outcomes, used, rows } = await twelveConcurrentRequests(
        contract,
        (i) => instances[i],
      );
      expect(outcomes.every((o) => o.status === 'accepted')).toBe(true);
      expect(rows.map((r) => r.stream_version)).toEqual(
        Array.from({ length: 25 }, (_, i) => i + 1),
      );
      // each request's two events are adjacent and in request order
      for (let i = 0; i < 12; i++) {
        const a = rows.findIndex((r) => r.inv === `INV-${i}-a`);
        expect(rows[a + 1].inv).toBe(`INV-${i}-b`);
      }
      expect(await count(`SELECT version n FROM streams WHERE stream_id = $1`, [contract])).toBe(
        25,
      );
      // more than one round per request on average proves that losers really retried
      expect(used).toBeGreaterThan(12 * 6);
    });

    it('one instance decides its concurrent requests on a contract in turn: no round lost', async () => {
      const { outcomes, used, rows } = await twelveConcurrentRequests('C-A3', () => handler);
      expect(outcomes.every((o) => o.status === 'accepted')).toBe(true);
      // in the order the requests arrived, each one round on the remembered state:
      // BEGIN, COPY, COMMIT
      expect(rows.map((r) => r.inv)).toEqual([
        null,
        ...Array.from({ length: 12 }, (_, i) => [`INV-${i}-a`, `INV-${i}-b`]).flat(),
      ]);
      expect(used).toBe(12 * 3);
    });
  });

  describe('(b) one eventId sent by two concurrent requests', () => {
    it('is stored once, on an existing and on a brand-new stream', async () => {
      await handler.execute(new RecordEventsCommand(items([ev.award('C-B-old', '2021-09-13')])));
      for (const contract of ['C-B-old', 'C-B-new-1', 'C-B-new-2', 'C-B-new-3']) {
        const e =
          contract === 'C-B-old'
            ? ev.signed(contract, '2021-09-20')
            : ev.award(contract, '2021-09-13');
        const [r1, r2] = await Promise.all([
          handler.execute(new RecordEventsCommand(items([e]))),
          handler.execute(new RecordEventsCommand(items([e]))),
        ]);
        expect([r1[0].status, r2[0].status].sort()).toEqual(['accepted', 'duplicate']);
        expect(await count(`SELECT count(*) n FROM events WHERE event_id = $1`, [e.eventId])).toBe(
          1,
        );
      }
    });

    it('is stored once when the same id reaches two different streams concurrently', async () => {
      const e1 = ev.award('C-B-x', '2021-09-13');
      const e2 = { ...ev.award('C-B-y', '2021-09-13'), eventId: e1.eventId };
      const [r1, r2] = await Promise.all([
        handler.execute(new RecordEventsCommand(items([e1]))),
        handler.execute(new RecordEventsCommand(items([e2]))),
      ]);
      expect([r1[0].status, r2[0].status].sort()).toEqual(['accepted', 'duplicate']);
      expect(await count(`SELECT count(*) n FROM events WHERE event_id = $1`, [e1.eventId])).toBe(
        1,
      );
    });
  });

  describe('(c) gap safety', () => {
    it('never returns a later commit before an earlier open transaction, and never skips it', async () => {
      const tail = await store.readAll(pool, START, 1_000_000);
      const checkpoint = tail.length
        ? {
            transactionId: tail[tail.length - 1].transactionId,
            globalPosition: tail[tail.length - 1].globalPosition,
          }
        : START;
      const slow = await pool.connect();
      try {
        await slow.query('BEGIN');
        const early = ev.award('C-GAP-1', '2021-09-13');
        await store.append(slow, [
          { streamId: 'C-GAP-1', expectedVersion: 0, events: [newEvent(early)] },
        ]);
        const late = ev.award('C-GAP-2', '2021-09-13');
        await store.transaction((c) =>
          store.append(c, [{ streamId: 'C-GAP-2', expectedVersion: 0, events: [newEvent(late)] }]),
        );

        // the later transaction is committed, but the earlier one is still open: read nothing
        const whileOpen = await store.readAll(pool, checkpoint, 100);
        expect(whileOpen.map((e) => e.eventId)).toEqual([]);

        await slow.query('COMMIT');
        const after = await store.readAll(pool, checkpoint, 100);
        expect(after.map((e) => e.eventId)).toEqual([early.eventId, late.eventId]);
        expect(BigInt(after[0].globalPosition)).toBeLessThan(BigInt(after[1].globalPosition));
      } finally {
        slow.release();
      }
    });
  });

  describe('(d) large batches', () => {
    it('appends 10,000 events in a bounded number of statements', async () => {
      const envs: Envelope[] = [];
      for (let c = 0; c < 1000; c++) {
        const id = `C-BULK-${c}`;
        envs.push(
          ev.award(id, '2021-09-13'),
          ev.signed(id, '2021-09-20'),
          ev.announced(id, '2021-09-21'),
          ev.filed(id, '2021-09-22'),
        );
        for (let i = 0; i < 6; i++) envs.push(ev.invoice(id, '2021-10-01', `INV-${i}`, '100.00'));
      }
      expect(envs).toHaveLength(10_000);
      const before = statements.n;
      const outcomes = await handler.execute(new RecordEventsCommand(items(envs)));
      const used = statements.n - before;
      expect(outcomes.filter((o) => o.status !== 'accepted')).toEqual([]);
      // per lane (two for a large batch): BEGIN, stream histories (none remembered yet), COPY
      // of the events, COMMIT
      expect(used).toBeLessThanOrEqual(2 * 4);
      expect(await count(`SELECT count(*) n FROM events WHERE stream_id LIKE 'C-BULK-%'`)).toBe(
        10_000,
      );
    });
  });

  describe('(e) remembered decision states', () => {
    it('a batch on remembered contracts sends BEGIN, COPY, COMMIT only (per lane)', async () => {
      const ids = Array.from({ length: 200 }, (_, i) => `C-WARM-${i}`);
      await handler.execute(
        new RecordEventsCommand(items(ids.map((id) => ev.award(id, '2021-09-13')))),
      );
      const before = statements.n;
      const out = await handler.execute(
        new RecordEventsCommand(items(ids.map((id) => ev.signed(id, '2021-09-20')))),
      );
      expect(out.every((o) => o.status === 'accepted')).toBe(true);
      expect(statements.n - before).toBe(2 * 3); // 200 events: two lanes
    });

    it('another writer appended since: decided again on the stored history, nothing lost or doubled', async () => {
      const other = new RecordEventsHandler(store, clock); // another instance: its own memory
      const id = 'C-STALE-1';
      await handler.execute(new RecordEventsCommand(items([ev.award(id, '2021-09-13')])));
      await other.execute(new RecordEventsCommand(items([ev.signed(id, '2021-09-20')])));
      const filed = ev.filed(id, '2021-09-22');
      const again = ev.signed(id, '2021-09-21');
      const out = await handler.execute(new RecordEventsCommand(items([filed, again])));
      expect(out.map((o) => o.status)).toEqual(['accepted', 'rejected']);
      expect(out[1].code).toBe('CONTRACT.ALREADY_SIGNED');
      const { rows } = await pool.query(
        'SELECT stream_version, type FROM events WHERE stream_id = $1 ORDER BY stream_version',
        [id],
      );
      expect(rows).toEqual([
        { stream_version: 1, type: 'AwardNoticeIssued' },
        { stream_version: 2, type: 'ContractSigned' },
        { stream_version: 3, type: 'ContractFiled' },
      ]);
    });

    it('a refusal is never decided on a remembered state: another writer freed the identity', async () => {
      const other = new RecordEventsHandler(store, clock);
      const id = 'C-STALE-2';
      const signed = ev.signed(id, '2021-09-20');
      await handler.execute(new RecordEventsCommand(items([ev.award(id, '2021-09-13'), signed])));
      // the other instance retracts the signing: a new signing is then allowed
      await other.execute(
        new RecordEventsCommand(items([ev.retracted(id, '2021-09-21', signed.eventId)])),
      );
      const resigned = ev.signed(id, '2021-09-22');
      const out = await handler.execute(new RecordEventsCommand(items([resigned])));
      expect(out[0]).toEqual({ eventId: resigned.eventId, status: 'accepted' });
      expect(await count(`SELECT count(*) n FROM events WHERE stream_id = $1`, [id])).toBe(4);
    });
  });

  describe('(e1) decision states remembered packed (DECISION_CACHE_PACKED_MB)', () => {
    it('decide as the states they were packed from: accepted, duplicate, refused, and stale', async () => {
      const cache = new DecisionStateCache(0, 8); // no live tier: every state kept packed
      const packed = new RecordEventsHandler(store, clock, undefined, cache);
      const id = 'C-PACKED-1';
      const signed = ev.signed(id, '2021-09-20');
      const invoice = ev.invoice(id, '2021-09-27', 'FP-1', '10.00');
      await packed.execute(
        new RecordEventsCommand(items([ev.award(id, '2021-09-13'), signed, invoice])),
      );
      expect(cache.sizes).toEqual({ live: 0, packed: 1 });
      const filed = ev.filed(id, '2021-09-22');
      const out = await packed.execute(
        new RecordEventsCommand(
          items([filed, signed, ev.invoice(id, '2021-09-28', 'FP-1', '10.00')]),
        ),
      );
      expect(out.map((o) => o.code ?? o.status)).toEqual([
        'accepted',
        'duplicate',
        'CONTRACT.INVOICE_ALREADY_RECEIVED',
      ]);
      expect(cache.taken.packed).toBeGreaterThanOrEqual(1);
      // another instance retracts the invoice: the packed state is stale, and a new invoice
      // of that number is accepted (decided again on the stored history)
      const other = new RecordEventsHandler(store, clock);
      await other.execute(
        new RecordEventsCommand(items([ev.retracted(id, '2021-09-29', invoice.eventId)])),
      );
      const again = ev.invoice(id, '2021-09-30', 'FP-1', '10.00');
      const after = await packed.execute(new RecordEventsCommand(items([again])));
      expect(after[0]).toEqual({ eventId: again.eventId, status: 'accepted' });
      const { rows } = await pool.query(
        'SELECT stream_version, type FROM events WHERE stream_id = $1 ORDER BY stream_version',
        [id],
      );
      expect(rows.map((r) => r.type)).toEqual([
        'AwardNoticeIssued',
        'ContractSigned',
        'InvoiceReceived',
        'ContractFiled',
        'EventRetracted',
        'InvoiceReceived',
      ]);
    });
  });

  describe('(e2) decisions on a history read from the store (no remembered state)', () => {
    it('every identity kind, from the fields loaded for its type: repeats refused, others accepted', async () => {
      const id = 'C-LOADED-1';
      const exemption = (rule: string, key?: string) => ({
        ...ev.filed(id, '2021-09-30'),
        type: 'ObligationExempted',
        data: { rule, ...(key ? { key } : {}), reason: '正当理由' },
      });
      const first = [
        ev.award(id, '2021-09-13'),
        ev.signed(id, '2021-09-20'),
        ev.accepted(id, '2021-09-25', false),
        ev.accepted(id, '2021-09-26'),
        ev.invoice(id, '2021-09-27', 'FP-1', '10.00'),
        ev.payment(id, '2021-09-28', 'PAY-1', '10.00'),
        exemption('smePayment', 'payment:FP-1'),
        exemption('signing'),
      ];
      const retractedInvoice = ev.invoice(id, '2021-09-27', 'FP-2', '10.00');
      first.push(retractedInvoice, ev.retracted(id, '2021-09-29', retractedInvoice.eventId));
      const stored = await handler.execute(new RecordEventsCommand(items(first), 'inspector'));
      expect(stored.map((o) => o.status)).toEqual(first.map(() => 'accepted'));

      // another instance (empty memory): it reads the history with DECISION_FIELDS
      const fresh = new RecordEventsHandler(store, clock);
      const second = [
        ev.signed(id, '2021-10-01'), // singleton
        ev.accepted(id, '2021-10-02'), // a passed acceptance exists
        ev.accepted(id, '2021-10-02', false), // failed ones may repeat
        ev.invoice(id, '2021-10-03', 'FP-1', '10.00'),
        ev.invoice(id, '2021-10-03', 'FP-2', '10.00'), // its holder was retracted
        ev.payment(id, '2021-10-04', 'PAY-1', '10.00'),
        ev.payment(id, '2021-10-04', 'PAY-2', '10.00'),
        exemption('smePayment', 'payment:FP-1'),
        exemption('smePayment', 'payment:FP-3'),
        exemption('signing'),
        ev.retracted(id, '2021-10-05', retractedInvoice.eventId), // already retracted
      ];
      const out = await fresh.execute(new RecordEventsCommand(items(second), 'inspector'));
      expect(out.map((o) => o.code ?? o.status)).toEqual([
        'CONTRACT.ALREADY_SIGNED',
        'CONTRACT.ALREADY_ACCEPTED',
        'accepted',
        'CONTRACT.INVOICE_ALREADY_RECEIVED',
        'accepted',
        'CONTRACT.PAYMENT_ALREADY_RECORDED',
        'accepted',
        'CONTRACT.ALREADY_EXEMPTED',
        'accepted',
        'CONTRACT.ALREADY_EXEMPTED',
        'CONTRACT.EVENT_ALREADY_RETRACTED',
      ]);
    });
  });

  describe('(f) lanes of a large batch', () => {
    it('decide as one batch would: order per contract, repeats of an eventId in batch order', async () => {
      const envs: Envelope[] = [];
      for (let i = 0; i < 150; i++) envs.push(ev.award(`C-LANE-${i}`, '2021-09-13'));
      for (let i = 0; i < 150; i++) envs.push(ev.signed(`C-LANE-${i}`, '2021-09-20'));
      const second = ev.award('C-LANE-0', '2021-09-14'); // refused: already awarded
      const reused = { ...ev.award('C-LANE-X', '2021-09-13'), eventId: envs[7].eventId };
      const out = await handler.execute(new RecordEventsCommand(items([...envs, second, reused])));
      expect(out.slice(0, 300).every((o) => o.status === 'accepted')).toBe(true);
      expect(out[300]).toMatchObject({ status: 'rejected', code: 'CONTRACT.ALREADY_AWARDED' });
      expect(out[301]).toEqual({ eventId: envs[7].eventId, status: 'duplicate' });
      const { rows } = await pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM events
          WHERE stream_id LIKE 'C-LANE-%' AND stream_version = CASE type WHEN 'AwardNoticeIssued' THEN 1 ELSE 2 END`,
      );
      expect(rows[0].n).toBe(300);
    });
  });

  describe('nothing lost', () => {
    it('keeps rejected events with payload, code and errors; duplicates are not kept', async () => {
      const bad = { ...ev.signed('C-REJ', '2021-09-20'), data: { amount: 12.5 } };
      const good = ev.award('C-REJ', '2021-09-13');
      const second = ev.award('C-REJ', '2021-09-14');
      const out = await handler.execute(new RecordEventsCommand(items([bad, good, good, second])));
      expect(out.map((o) => o.status)).toEqual(['rejected', 'accepted', 'duplicate', 'rejected']);
      expect(out[3].code).toBe('CONTRACT.ALREADY_AWARDED');
      const { rows } = await pool.query(
        `SELECT event_id, code, errors, payload FROM rejected_events WHERE contract_id = 'C-REJ' ORDER BY id`,
      );
      expect(rows.map((r) => r.code)).toEqual([
        'EVENT.INVALID_PAYLOAD',
        'CONTRACT.ALREADY_AWARDED',
      ]);
      expect(rows[0].errors).toEqual([expect.objectContaining({ path: 'data.amount' })]);
      expect(JSON.parse(rows[0].payload)).toEqual(bad);
    });
  });
});

/**
 * The JSON fixtures of tests/fixtures, posted to the real application.
 *
 * - valid/*.json: one envelope per file, a realistic 2021 lifecycle of two contracts
 *   (every event type a platform may send), posted in file-name order.
 * - invalid/*.json: `{ description, expect: {status, code, path}, event }`; `path` is the
 *   field path the error must name, or null for conflicts with the contract history
 *   (those fixtures rely on the valid ones being stored first).
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import request from 'supertest';
import { EVENT_TYPES, isValidCreditCode } from '@app/contracts';
import { startTestApp, type TestApp } from '../support/test-app';
import { auth } from '../support/auth';

const FIXTURES = path.join(__dirname, '..', 'fixtures');

interface Envelope {
  eventId: string;
  type: string;
  contractId: string;
  occurredAt: string;
  schemaVersion: number;
  correlationId?: string;
  data?: Record<string, unknown>;
}

interface InvalidFixture {
  description: string;
  expect: { status: number; code: string; path: string | null };
  event: Record<string, unknown>;
}

function load<T>(dir: string): Array<{ file: string; doc: T }> {
  const full = path.join(FIXTURES, dir);
  return readdirSync(full)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, doc: JSON.parse(readFileSync(path.join(full, file), 'utf8')) as T }));
}

const ENVELOPE_KEYS = [
  'eventId',
  'type',
  'contractId',
  'occurredAt',
  'schemaVersion',
  'correlationId',
  'data',
];
const valid = load<Envelope>('valid');
const invalid = load<InvalidFixture>('invalid');

describe('fixtures (e2e)', () => {
  let t: TestApp;
  let db: Client;

  beforeAll(async () => {
    t = await startTestApp();
    db = new Client({ connectionString: t.db.url });
    await db.connect();
  });
  afterAll(async () => {
    await db?.end();
    await t?.close();
  });

  const post = (body: unknown) =>
    request(t.url)
      .post('/v1/events')
      .set(auth('platform'))
      .send(body as object);

  /** Stores the valid fixtures (idempotent: a second call only meets duplicates). */
  async function postValid(): Promise<string[]> {
    const statuses: string[] = [];
    for (const { doc } of valid) {
      const res = await post(doc);
      expect([200, 202]).toContain(res.status);
      statuses.push(res.body.status);
    }
    return statuses;
  }

  describe('the fixture files themselves', () => {
    it('valid/: well-formed 2021 envelopes, unique eventIds, every type a platform may send, valid credit codes', () => {
      expect(valid.length).toBeGreaterThan(0);
      const ids = valid.map((v) => v.doc.eventId);
      expect(new Set(ids).size).toBe(ids.length);
      const types = new Set(valid.map((v) => v.doc.type));
      expect([...types].sort()).toEqual(
        EVENT_TYPES.filter((x) => x !== 'ObligationExempted').sort(),
      );
      for (const { file, doc } of valid) {
        const unknownKeys = Object.keys(doc).filter((k) => !ENVELOPE_KEYS.includes(k));
        expect({ file, unknownKeys }).toEqual({ file, unknownKeys: [] });
        expect({ file, year: doc.occurredAt.slice(0, 4) }).toEqual({ file, year: '2021' });
        const supplier = doc.data?.supplier as { creditCode?: string } | undefined;
        if (supplier)
          expect({ file, ok: isValidCreditCode(supplier.creditCode) }).toEqual({ file, ok: true });
      }
    });

    it('invalid/: each names the expected status, code and path', () => {
      expect(invalid.length).toBeGreaterThan(0);
      const ids = invalid.map((v) => v.doc.event.eventId);
      expect(new Set(ids).size).toBe(ids.length);
      for (const { file, doc } of invalid) {
        expect({ file, doc }).toEqual({
          file,
          doc: {
            description: expect.any(String),
            expect: {
              status: expect.any(Number),
              code: expect.stringMatching(/^[A-Z]+(\.[A-Z_]+)+$/),
              path: doc.expect.path === null ? null : expect.any(String),
            },
            event: expect.any(Object),
          },
        });
        expect({ file, clientError: doc.expect.status >= 400 && doc.expect.status < 500 }).toEqual({
          file,
          clientError: true,
        });
      }
      expect(ids).not.toContain(undefined);
      // no invalid fixture reuses the eventId of a valid one (it would be a duplicate, not a rejection)
      for (const v of valid) expect(ids).not.toContain(v.doc.eventId);
    });
  });

  describe('valid fixtures', () => {
    it('each is accepted (202) when posted alone, in order', async () => {
      for (const { file, doc } of valid) {
        const res = await post(doc);
        expect({ file, status: res.status, body: res.body }).toEqual({
          file,
          status: 202,
          body: expect.objectContaining({ eventId: doc.eventId, status: 'accepted' }),
        });
      }
    });

    it('posted again, as one array, each is a duplicate', async () => {
      await postValid();
      const res = await post(valid.map((v) => v.doc));
      expect(res.status).toBe(200);
      expect(res.body.results).toEqual(
        valid.map((v) => ({ eventId: v.doc.eventId, status: 'duplicate' })),
      );
    });

    it('the history of each contract is the fixtures in order, with business dates and the retraction', async () => {
      await postValid();
      const contracts = [...new Set(valid.map((v) => v.doc.contractId))];
      expect(contracts.length).toBeGreaterThanOrEqual(2);
      const retractedIds = new Set(
        valid
          .filter((v) => v.doc.type === 'EventRetracted')
          .map((v) => String(v.doc.data?.retractedEventId).toLowerCase()),
      );
      expect(retractedIds.size).toBeGreaterThan(0);
      for (const contractId of contracts) {
        const sent = valid.map((v) => v.doc).filter((d) => d.contractId === contractId);
        const res = await request(t.url)
          .get(`/v1/contracts/${encodeURIComponent(contractId)}/events`)
          .set(auth('inspector'));
        expect(res.status).toBe(200);
        const events = res.body.events as Array<Record<string, unknown>>;
        expect(events.map((e) => e.eventId)).toEqual(sent.map((d) => d.eventId));
        expect(events.map((e) => e.occurredAt)).toEqual(sent.map((d) => d.occurredAt));
        expect(events.map((e) => e.data)).toEqual(sent.map((d) => d.data ?? {}));
        expect(events.map((e) => e.retracted)).toEqual(
          sent.map((d) => retractedIds.has(d.eventId)),
        );
        for (const e of events) expect(e.businessDate).toEqual(shanghaiDate(String(e.occurredAt)));
      }
      // valid/04 is filed at 2021-09-30T23:30:00Z: 2021-10-01 in Shanghai
      const filed = valid.find((v) => v.doc.type === 'ContractFiled')!.doc;
      const res = await request(t.url)
        .get(`/v1/contracts/${encodeURIComponent(filed.contractId)}/events`)
        .set(auth('inspector'));
      const stored = (res.body.events as Array<{ eventId: string; businessDate: string }>).find(
        (e) => e.eventId === filed.eventId,
      );
      expect(filed.occurredAt).toBe('2021-09-30T23:30:00Z');
      expect(stored?.businessDate).toBe('2021-10-01');
    });
  });

  describe('invalid fixtures', () => {
    it.each(invalid.map((v) => [v.file, v.doc] as const))(
      '%s is rejected as expected when posted alone',
      async (_file, doc) => {
        await postValid();
        const res = await post(doc.event);
        expect({ status: res.status, code: res.body?.code }).toEqual({
          status: doc.expect.status,
          code: doc.expect.code,
        });
        expect(res.body).toEqual(
          expect.objectContaining({
            statusCode: doc.expect.status,
            message: expect.any(String),
            correlationId: expect.any(String),
          }),
        );
        if (doc.expect.path !== null) {
          expect((res.body.details as Array<{ path: string }>).map((d) => d.path)).toContain(
            doc.expect.path,
          );
        }
      },
    );

    it('posted together as one array, each is rejected with its code and path; none is stored, all are kept for audit', async () => {
      await postValid();
      const res = await post(invalid.map((v) => v.doc.event));
      expect(res.status).toBe(200);
      const results = res.body.results as Array<{
        status: string;
        code?: string;
        errors?: Array<{ path: string }>;
      }>;
      expect(results).toHaveLength(invalid.length);
      invalid.forEach(({ file, doc }, i) => {
        expect({ file, status: results[i].status, code: results[i].code }).toEqual({
          file,
          status: 'rejected',
          code: doc.expect.code,
        });
        if (doc.expect.path !== null)
          expect({ file, paths: results[i].errors!.map((e) => e.path) }).toEqual({
            file,
            paths: expect.arrayContaining([doc.expect.path]),
          });
      });

      const ids = invalid.map((v) => String(v.doc.event.eventId));
      const stored = await db.query(
        'SELECT count(*)::int AS n FROM events WHERE event_id::text = ANY($1::text[])',
        [ids],
      );
      expect(stored.rows[0].n).toBe(0);
      const kept = await db.query(
        'SELECT DISTINCT event_id, code FROM rejected_events WHERE event_id = ANY($1::text[])',
        [ids],
      );
      expect(new Map(kept.rows.map((r) => [r.event_id, r.code]))).toEqual(
        new Map(invalid.map((v) => [String(v.doc.event.eventId), v.doc.expect.code])),
      );
    });
  });
});

/** The calendar date in Asia/Shanghai (UTC+8, no DST) of an offset date-time. */
function shanghaiDate(occurredAt: string): string {
  return new Date(Date.parse(occurredAt) + 8 * 3600 * 1000).toISOString().slice(0, 10);
}

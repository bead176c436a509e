/**
 * POST /v1/events and GET /v1/contracts/{id}/events end to end: array body.
 * The real application on a fresh PostgreSQL database, driven over HTTP (SPEC §2, §4).
 */
import { ev } from '@app/testing';
import { STABLE_CODE, cid, expectErrorShape, ingestionApp } from './support';

describe('POST /v1/events — array body (e2e)', () => {
  const app = ingestionApp();
  const { post, storedIds, accept } = app;

  it('answers 200 {results} with one result per event, in order; code and errors only on rejected ones', async () => {
    const c = cid('batch');
    const stored = ev.award(c, '2021-09-13');
    await accept(stored);
    const signed = ev.signed(c, '2021-09-20');
    const invalid = {
      ...ev.invoice(c, '2021-09-21', 'INV-1', '10.00'),
      data: { invoiceNo: 'INV-1', amount: 12.5, stage: 'final' },
    };
    const secondSigning = ev.signed(c, '2021-09-22');
    const filed = ev.filed(c, '2021-09-23');
    const body = [signed, stored, invalid, secondSigning, signed, filed, null];

    const res = await post(body);
    expect(res.status).toBe(200);
    expect(Object.keys(res.body)).toEqual(['results']);
    const results = res.body.results as Array<Record<string, unknown>>;
    expect(results).toHaveLength(body.length);
    expect(results[0]).toEqual({ eventId: signed.eventId, status: 'accepted' });
    expect(results[1]).toEqual({ eventId: stored.eventId, status: 'duplicate' });
    expect(results[2]).toEqual(
      expect.objectContaining({
        eventId: invalid.eventId,
        status: 'rejected',
        code: 'EVENT.INVALID_PAYLOAD',
        errors: [{ path: 'data.amount', message: expect.any(String) }],
      }),
    );
    expect(results[3]).toEqual(
      expect.objectContaining({
        eventId: secondSigning.eventId,
        status: 'rejected',
        code: 'CONTRACT.ALREADY_SIGNED',
        errors: [],
      }),
    );
    expect(results[4]).toEqual({ eventId: signed.eventId, status: 'duplicate' }); // same id earlier in the batch
    expect(results[5]).toEqual({ eventId: filed.eventId, status: 'accepted' });
    expect(results[6]).toEqual(
      expect.objectContaining({
        status: 'rejected',
        code: 'EVENT.INVALID_PAYLOAD',
        errors: expect.any(Array),
      }),
    );
    for (const r of results) {
      if (r.status !== 'rejected') expect(Object.keys(r).sort()).toEqual(['eventId', 'status']);
    }
    expect(await storedIds(c)).toEqual([stored.eventId, signed.eventId, filed.eventId]);
  });

  it('a retraction and the new signing may follow the retracted one in the same array', async () => {
    const c = cid('batch-retract');
    const s1 = ev.signed(c, '2021-09-20', '100.00');
    const r = ev.retracted(c, '2021-09-21', s1.eventId);
    const s2 = ev.signed(c, '2021-09-21', '200.00');
    const res = await post([s1, r, s2]);
    expect(res.status).toBe(200);
    expect(res.body.results.map((x: { status: string }) => x.status)).toEqual([
      'accepted',
      'accepted',
      'accepted',
    ]);
  });

  it('rejects each non-object element with a code', async () => {
    const res = await post([null, 1, 'x', [], true]);
    expect(res.status).toBe(200);
    expect(res.body.results).toHaveLength(5);
    for (const r of res.body.results) {
      expect(r).toEqual(
        expect.objectContaining({
          status: 'rejected',
          code: 'EVENT.INVALID_PAYLOAD',
          errors: expect.any(Array),
        }),
      );
    }
  });

  it('takes exactly 1,000 events', async () => {
    const events = Array.from({ length: 1000 }, (_, i) =>
      ev.filed(`CQ-FL-2021-K${i}`, '2021-09-30'),
    );
    const res = await post(events);
    expect(res.status).toBe(200);
    expect(res.body.results).toHaveLength(1000);
    expect(res.body.results.every((r: { status: string }) => r.status === 'accepted')).toBe(true);
  });

  it('answers 413 with a code for 1,001 events, and stores none of them', async () => {
    const c = cid('too-many');
    const events = Array.from({ length: 1001 }, (_, i) =>
      ev.invoice(c, '2021-09-30', `INV-${i}`, '1.00'),
    );
    const res = await post(events);
    expectErrorShape(res, 413, 'EVENT.BATCH_TOO_LARGE');
    expect(await storedIds(c)).toEqual([]);
  });

  it('answers 400 with a code for an empty array', async () => {
    const res = await post([]);
    expect(res.status).toBe(400);
    expectErrorShape(res, 400, res.body.code);
    expect(res.body.code).toMatch(STABLE_CODE);
  });
});

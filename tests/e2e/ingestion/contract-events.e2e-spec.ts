/**
 * POST /v1/events and GET /v1/contracts/{id}/events end to end: GET /v1/contracts/{id}/events.
 * The real application on a fresh PostgreSQL database, driven over HTTP (SPEC §2, §4).
 */
import { ev } from '@app/testing';
import { TEST_PLATFORM_ID } from '../../support/auth';
import { VALID_CREDIT_CODE, cid, plain, expectErrorShape, nextSeq, ingestionApp } from './support';

describe('GET /v1/contracts/{id}/events (e2e)', () => {
  const app = ingestionApp();
  const { post, history, accept } = app;

  it('returns the stored history in order, with occurredAt as sent, businessDate in Shanghai, recordedAt, data and retracted flags', async () => {
    const c = cid('history');
    const before = Date.now();
    // arrives out of business order: the history is the stored (arrival) order
    const signed = ev.signed(c, '2021-09-30T23:30:00Z', '1250000.00', '0.30');
    const award = ev.award(c, '2021-09-13T10:00:00+08:00', { supplierCode: VALID_CREDIT_CODE });
    const wrongPayment = ev.payment(c, '2021-09-30T11:30:00-05:00', 'PAY-1', '1.00', 'prepayment');
    const retraction = ev.retracted(
      c,
      '2021-09-30T15:59:59Z',
      wrongPayment.eventId,
      '金额录入错误',
    );
    const payment = {
      ...ev.payment(c, '2021-10-01T07:59:59.5+08:00', 'PAY-2', '375000.00', 'prepayment'),
      correlationId: 'corr-history-1',
    };
    const sent = [signed, award, wrongPayment, retraction, payment];
    for (const e of sent) await accept(e);
    const after = Date.now();

    const res = await history(c);
    expect(res.status).toBe(200);
    expect(res.body.contractId).toBe(c);
    const events = res.body.events as Array<Record<string, unknown>>;
    expect(events.map((e) => e.eventId)).toEqual(sent.map((e) => e.eventId));
    expect(events.map((e) => e.type)).toEqual(sent.map((e) => e.type));
    expect(events.map((e) => e.occurredAt)).toEqual([
      '2021-09-30T23:30:00Z',
      '2021-09-13T10:00:00+08:00',
      '2021-09-30T11:30:00-05:00',
      '2021-09-30T15:59:59Z',
      '2021-10-01T07:59:59.5+08:00',
    ]);
    expect(events.map((e) => e.businessDate)).toEqual([
      '2021-10-01',
      '2021-09-13',
      '2021-10-01',
      '2021-09-30',
      '2021-10-01',
    ]);
    expect(events.map((e) => e.retracted)).toEqual([false, false, true, false, false]);
    expect(events.map((e) => e.data)).toEqual(sent.map((e) => e.data));
    expect(events.map((e) => e.streamVersion)).toEqual([1, 2, 3, 4, 5]);
    expect(events[4].correlationId).toBe('corr-history-1');
    // the service adds the source: the authenticated platform
    for (const e of events)
      expect(e.source).toEqual(
        expect.objectContaining({ kind: 'http', platformId: TEST_PLATFORM_ID }),
      );
    for (const e of events) {
      expect(e.recordedAt).toEqual(expect.any(String));
      expect(String(e.recordedAt)).toMatch(
        /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/,
      );
      const ms = Date.parse(String(e.recordedAt));
      expect(ms).toBeGreaterThanOrEqual(before - 60_000);
      expect(ms).toBeLessThanOrEqual(after + 60_000);
      expect(e.schemaVersion).toBe(1);
    }
    const recorded = events.map((e) => Date.parse(String(e.recordedAt)));
    expect([...recorded].sort((a, b) => a - b)).toEqual(recorded);
  });

  it('serves contract ids with every allowed character (/, :, ., _)', async () => {
    const c = `CQ/FL:2021.${nextSeq()}_a-b`;
    const e = ev.filed(c, '2021-10-01');
    await accept(e);
    const res = await history(c);
    expect(res.status).toBe(200);
    expect(res.body.events.map((x: { eventId: string }) => x.eventId)).toEqual([e.eventId]);
  });

  it('answers 404 CONTRACT.NOT_FOUND for an unknown contract, and for one that only has rejected events', async () => {
    expectErrorShape(await history('CQ-FL-2021-NO-SUCH'), 404, 'CONTRACT.NOT_FOUND');
    expectErrorShape(await history('x'.repeat(65)), 404, 'CONTRACT.NOT_FOUND');
    const c = cid('only-rejected');
    await post({ ...plain(ev.signed(c, '2021-09-30')), data: { amount: 1 } });
    expectErrorShape(await history(c), 404, 'CONTRACT.NOT_FOUND');
  });
});

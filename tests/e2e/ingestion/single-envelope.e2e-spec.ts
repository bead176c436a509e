/**
 * POST /v1/events and GET /v1/contracts/{id}/events end to end: single envelope: accepted, duplicate, conflicts.
 * The real application on a fresh PostgreSQL database, driven over HTTP (SPEC §2, §4).
 */
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { ev, type Envelope } from '@app/testing';
import { auth } from '../../support/auth';
import { cid, expectErrorShape, ingestionApp } from './support';

describe('POST /v1/events — single envelope: accepted, duplicate, conflicts (e2e)', () => {
  const app = ingestionApp();
  const { post, history, storedIds, accept } = app;

  it('answers 202 {eventId, status: accepted} and stores the event', async () => {
    const c = cid('single');
    const e = ev.signed(c, '2021-09-30T15:20:00+08:00', '1250000.00', '0.30');
    const res = await post(e);
    expect(res.status).toBe(202);
    expect(res.body).toEqual(expect.objectContaining({ eventId: e.eventId, status: 'accepted' }));
    expect(await storedIds(c)).toEqual([e.eventId]);
  });

  it('answers 200 duplicate for the same eventId again (even with other content or upper case), stored once', async () => {
    const c = cid('dup');
    const e = ev.signed(c, '2021-09-30');
    await accept(e);
    const again = await post(e);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(
      expect.objectContaining({ eventId: e.eventId, status: 'duplicate' }),
    );
    // the eventId is the idempotency key, whatever the content
    const changed = await post({
      ...e,
      occurredAt: '2021-10-02T10:00:00+08:00',
      data: { amount: '1.00' },
    });
    expect(changed.status).toBe(200);
    expect(changed.body.status).toBe('duplicate');
    const upper = await post({ ...e, eventId: e.eventId.toUpperCase() });
    expect(upper.status).toBe(200);
    expect(upper.body.status).toBe('duplicate');
    // … and whatever the contract it names
    const other = cid('dup-other');
    const elsewhere = await post({ ...e, contractId: other });
    expect(elsewhere.status).toBe(200);
    expect(elsewhere.body.status).toBe('duplicate');
    expect(await storedIds(other)).toEqual([]);
    expect(await storedIds(c)).toEqual([e.eventId]);
    const n = await app
      .db()
      .query('SELECT count(*)::int AS n FROM events WHERE event_id = $1', [e.eventId]);
    expect(n.rows[0].n).toBe(1);
  });

  it('concurrent requests: one eventId sent 8 times is stored once; 8 different signings of one contract, one wins', async () => {
    const c = cid('race');
    const e = ev.signed(c, '2021-09-30');
    const same = await Promise.all(Array.from({ length: 8 }, () => post(e)));
    expect(same.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 202]);
    expect(await storedIds(c)).toEqual([e.eventId]);

    const c2 = cid('race');
    const signings = Array.from({ length: 8 }, (_, i) =>
      ev.signed(c2, '2021-09-30', `${i + 1}00.00`),
    );
    const answers = await Promise.all(signings.map((s) => post(s)));
    expect(answers.map((r) => r.status).sort()).toEqual([202, 409, 409, 409, 409, 409, 409, 409]);
    for (const r of answers.filter((x) => x.status === 409))
      expect(r.body.code).toBe('CONTRACT.ALREADY_SIGNED');
    const winner = signings[answers.findIndex((r) => r.status === 202)];
    expect(await storedIds(c2)).toEqual([winner.eventId]);
  });

  it('echoes the caller correlation id in the error body', async () => {
    const res = await request(app.url())
      .post('/v1/events')
      .set(auth('platform'))
      .set('x-correlation-id', 'corr-e2e-42')
      .send({ ...ev.signed(cid('corr'), '2021-09-30'), eventId: 'nope' });
    expectErrorShape(res, 400, 'EVENT.INVALID_PAYLOAD');
    expect(res.body.correlationId).toBe('corr-e2e-42');
    expect(res.headers['x-correlation-id']).toBe('corr-e2e-42');
  });

  const singletons: Array<[string, string, (c: string, d: string) => Envelope]> = [
    ['AwardNoticeIssued', 'CONTRACT.ALREADY_AWARDED', (c, d) => ev.award(c, d)],
    ['ContractSigned', 'CONTRACT.ALREADY_SIGNED', (c, d) => ev.signed(c, d)],
    ['ContractAnnounced', 'CONTRACT.ALREADY_ANNOUNCED', (c, d) => ev.announced(c, d)],
    ['ContractFiled', 'CONTRACT.ALREADY_FILED', (c, d) => ev.filed(c, d)],
    [
      'PerformanceCompleted',
      'CONTRACT.PERFORMANCE_ALREADY_COMPLETED',
      (c, d) => ev.performed(c, d),
    ],
    [
      'AcceptanceCompleted{passed:true}',
      'CONTRACT.ALREADY_ACCEPTED',
      (c, d) => ev.accepted(c, d, true),
    ],
    ['ContractTerminated', 'CONTRACT.ALREADY_TERMINATED', (c, d) => ev.terminated(c, d)],
  ];

  it.each(singletons)(
    'a second %s with another eventId is 409 %s until the first is retracted',
    async (_type, code, make) => {
      const c = cid('singleton');
      const first = make(c, '2021-09-20');
      await accept(first);

      const second = make(c, '2021-09-22');
      const conflict = await post(second);
      expectErrorShape(conflict, 409, code);
      expect(await storedIds(c)).toEqual([first.eventId]);

      // retracting the first one frees the slot
      const retraction = ev.retracted(c, '2021-09-23', first.eventId);
      await accept(retraction);
      await accept(second);
      expect(await storedIds(c)).toEqual([first.eventId, retraction.eventId, second.eventId]);

      // and the replacement is a singleton again
      expectErrorShape(await post(make(c, '2021-09-24')), 409, code);
    },
  );

  it('a failed acceptance may repeat; a passed one after them is accepted, a second passed one is 409', async () => {
    const c = cid('acceptance');
    await accept(ev.performed(c, '2021-10-08'));
    await accept(ev.accepted(c, '2021-10-09', false));
    await accept(ev.accepted(c, '2021-10-11', false));
    await accept(ev.accepted(c, '2021-10-12', true));
    await accept(ev.accepted(c, '2021-10-13', false));
    expectErrorShape(
      await post(ev.accepted(c, '2021-10-14', true)),
      409,
      'CONTRACT.ALREADY_ACCEPTED',
    );
    expect(await storedIds(c)).toHaveLength(5);
  });

  it('an invoice number and a payment id may be used once per contract', async () => {
    const c = cid('inv');
    await accept(ev.invoice(c, '2021-10-01', 'INV-001', '100.00'));
    expectErrorShape(
      await post(ev.invoice(c, '2021-10-02', 'INV-001', '200.00')),
      409,
      'CONTRACT.INVOICE_ALREADY_RECEIVED',
    );
    await accept(ev.invoice(c, '2021-10-02', 'INV-002', '200.00'));
    await accept(ev.payment(c, '2021-10-03', 'PAY-001', '100.00', 'progress', 'INV-001'));
    expectErrorShape(
      await post(ev.payment(c, '2021-10-04', 'PAY-001', '200.00')),
      409,
      'CONTRACT.PAYMENT_ALREADY_RECORDED',
    );
    // the same numbers on another contract are fine
    await accept(ev.invoice(cid('inv-other'), '2021-10-01', 'INV-001', '100.00'));
  });

  it('doubtful facts are accepted (signed before the award, paid without invoice): a monitor does not refuse evidence', async () => {
    const c = cid('doubtful');
    await accept(ev.signed(c, '2021-09-10'));
    await accept(ev.award(c, '2021-09-13'));
    await accept(ev.payment(c, '2021-09-14', 'PAY-X', '999999.00', 'final'));
  });

  it('retraction of an event of another contract, twice, or of a retraction is 409', async () => {
    const c = cid('retract');
    const signed = ev.signed(c, '2021-09-20');
    await accept(signed);

    const other = cid('retract-other');
    const otherSigned = ev.signed(other, '2021-09-20');
    await accept(otherSigned);
    expectErrorShape(
      await post(ev.retracted(c, '2021-09-21', otherSigned.eventId)),
      409,
      'CONTRACT.RETRACTED_EVENT_NOT_FOUND',
    );

    const r1 = ev.retracted(c, '2021-09-21', signed.eventId.toUpperCase());
    await accept(r1);
    expectErrorShape(
      await post(ev.retracted(c, '2021-09-22', signed.eventId)),
      409,
      'CONTRACT.EVENT_ALREADY_RETRACTED',
    );
    expectErrorShape(
      await post(ev.retracted(c, '2021-09-22', r1.eventId)),
      409,
      'CONTRACT.RETRACTION_NOT_RETRACTABLE',
    );
    const res = await history(c);
    expect(
      res.body.events.map((e: { eventId: string; retracted: boolean }) => [e.eventId, e.retracted]),
    ).toEqual([
      [signed.eventId, true],
      [r1.eventId, false],
    ]);
  });

  it('accepts a retraction before the event it names: that event is void when it arrives, and claims nothing', async () => {
    const c = cid('retract-ahead');
    const wrong = ev.payment(c, '2021-09-14', 'PAY-1', '100.00', 'progress');
    const fixed = ev.payment(c, '2021-09-14', 'PAY-1', '90.00', 'progress');
    const r = ev.retracted(c, '2021-09-15', wrong.eventId);
    await accept(r);
    await accept(fixed); // after the retraction: PAY-1 is free
    await accept(wrong); // arrives last, void at once: no conflict with the corrected PAY-1
    await accept(ev.retracted(c, '2021-09-16', randomUUID())); // names nothing received yet
    expectErrorShape(
      await post(ev.retracted(c, '2021-09-16', wrong.eventId)),
      409,
      'CONTRACT.EVENT_ALREADY_RETRACTED',
    );
    const res = await history(c);
    const byId = new Map(
      res.body.events.map((e: { eventId: string; retracted: boolean }) => [e.eventId, e.retracted]),
    );
    expect([byId.get(wrong.eventId), byId.get(fixed.eventId), byId.get(r.eventId)]).toEqual([
      true,
      false,
      false,
    ]);
  });

  it('a platform may not post ObligationExempted: 400 EVENT.NOT_ALLOWED_ON_INGESTION, nothing stored', async () => {
    const c = cid('exempt');
    const e = {
      eventId: randomUUID(),
      type: 'ObligationExempted',
      contractId: c,
      occurredAt: '2021-10-20T10:00:00+08:00',
      schemaVersion: 1,
      data: { rule: 'payment', key: 'payment:INV-001', reason: '正当理由' },
    };
    expectErrorShape(await post(e), 400, 'EVENT.NOT_ALLOWED_ON_INGESTION');
    const batch = await post([e]);
    expect(batch.status).toBe(200);
    expect(batch.body.results[0]).toEqual(
      expect.objectContaining({
        eventId: e.eventId,
        status: 'rejected',
        code: 'EVENT.NOT_ALLOWED_ON_INGESTION',
      }),
    );
    expect(await storedIds(c)).toEqual([]);
  });
});

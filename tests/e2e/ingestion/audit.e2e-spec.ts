/**
 * POST /v1/events and GET /v1/contracts/{id}/events end to end: rejected events are kept for audit.
 * The real application on a fresh PostgreSQL database, driven over HTTP (SPEC §2, §4).
 */
import { ev } from '@app/testing';
import { cid, plain, expectErrorShape, ingestionApp, type Body } from './support';

describe('POST /v1/events — rejected events are kept for audit (e2e)', () => {
  const app = ingestionApp();
  const { post, accept } = app;

  const rejectedRows = async (eventId: string) =>
    (
      await app
        .db()
        .query(
          'SELECT event_id, contract_id, type, code, errors, payload FROM rejected_events WHERE event_id = $1',
          [eventId],
        )
    ).rows;

  it('keeps a validation rejection with its code, field errors and raw payload', async () => {
    const e: Body = { ...plain(ev.signed(cid('audit'), '2021-09-30')), data: { amount: 12.5 } };
    expectErrorShape(await post(e), 400, 'EVENT.INVALID_PAYLOAD');
    const rows = await rejectedRows(String(e.eventId));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toEqual(
      expect.objectContaining({
        contract_id: e.contractId,
        type: 'ContractSigned',
        code: 'EVENT.INVALID_PAYLOAD',
      }),
    );
    expect(rows[0].errors).toEqual([{ path: 'data.amount', message: expect.any(String) }]);
    expect(JSON.parse(rows[0].payload)).toEqual(e);
  });

  it('keeps a conflict (409) with its code and raw payload', async () => {
    const c = cid('audit-409');
    await accept(ev.signed(c, '2021-09-20'));
    const second = ev.signed(c, '2021-09-21', '99.00');
    expectErrorShape(await post(second), 409, 'CONTRACT.ALREADY_SIGNED');
    const rows = await rejectedRows(second.eventId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toEqual(
      expect.objectContaining({
        contract_id: c,
        type: 'ContractSigned',
        code: 'CONTRACT.ALREADY_SIGNED',
      }),
    );
    expect(JSON.parse(rows[0].payload)).toEqual(second);
  });

  it('keeps rejections from an array, including non-objects', async () => {
    const markerCount = async () =>
      (
        await app
          .db()
          .query(
            `SELECT count(*)::int AS n FROM rejected_events WHERE payload IN ('"audit-marker-x"', 'audit-marker-x')`,
          )
      ).rows[0].n;
    const before = await markerCount();
    const e: Body = { ...plain(ev.filed(cid('audit-arr'), '2021-10-01')), schemaVersion: 2 };
    const res = await post([e, 'audit-marker-x']);
    expect(res.status).toBe(200);
    const rows = await rejectedRows(String(e.eventId));
    expect(rows.map((r) => r.code)).toEqual(['EVENT.UNSUPPORTED_SCHEMA_VERSION']);
    const after = await markerCount();
    expect(after - before).toBe(1);
  });

  it('does not keep duplicates (nor accepted events)', async () => {
    const e = ev.signed(cid('audit-dup'), '2021-09-30');
    await accept(e);
    expect((await post(e)).body.status).toBe('duplicate');
    expect((await post([e, e])).body.results.map((r: { status: string }) => r.status)).toEqual([
      'duplicate',
      'duplicate',
    ]);
    expect(await rejectedRows(e.eventId)).toEqual([]);
  });
});

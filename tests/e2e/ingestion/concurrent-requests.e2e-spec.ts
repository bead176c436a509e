/**
 * Concurrent POST /v1/events on the same contracts, to one instance (issue #16): the requests
 * are decided in turn per contract (ContractQueue), not raced on the same stream versions.
 * Every event is stored once, each stream's versions are 1..n, and no round was lost
 * (`ingestion_append_conflicts_total` does not move). Other instances are still caught by the
 * unique keys (tests/integration/event-store.int-spec.ts, multi-instance suites).
 */
import request from 'supertest';
import { ev, type Envelope } from '@app/testing';
import { cid, ingestionApp } from './support';

const CONTRACTS = 80;
const REQUESTS = 8;

/** One contract's 24 events: the award, the milestones, nine invoices and their payments. */
function history(contractId: string): Envelope[] {
  const out = [
    ev.award(contractId, '2021-09-01'),
    ev.signed(contractId, '2021-09-10'),
    ev.announced(contractId, '2021-09-11'),
    ev.filed(contractId, '2021-09-13'),
    ev.performed(contractId, '2021-10-01'),
    ev.accepted(contractId, '2021-10-08'),
  ];
  for (let i = 1; i <= 9; i++) {
    out.push(ev.invoice(contractId, '2021-10-10', `FP${i}`, '1000.00'));
    out.push(ev.payment(contractId, '2021-10-12', `PAY${i}`, '1000.00', 'progress', `FP${i}`));
  }
  return out;
}

async function conflicts(url: string): Promise<number> {
  const text = (await request(url).get('/metrics')).text;
  let sum = 0;
  for (const m of text.matchAll(/^ingestion_append_conflicts_total(?:\{[^}]*\})? (\S+)$/gm))
    sum += Number(m[1]);
  return sum;
}

describe('concurrent requests on the same contracts (e2e)', () => {
  const app = ingestionApp();

  it(`${REQUESTS} requests at once, interleaving ${CONTRACTS} contracts: all stored once, in turn, no lost round`, async () => {
    const ids = Array.from({ length: CONTRACTS }, () => cid('CONC'));
    const histories = ids.map(history);
    // the k-th event of every contract, then the (k+1)-th: each request holds every contract
    const feed: Envelope[] = [];
    for (let k = 0; k < histories[0].length; k++) for (const h of histories) feed.push(h[k]);
    const size = feed.length / REQUESTS;
    const before = await conflicts(app.url());

    const answers = await Promise.all(
      Array.from({ length: REQUESTS }, (_, r) => app.post(feed.slice(r * size, (r + 1) * size))),
    );

    for (const a of answers) {
      expect(a.status).toBe(200);
      const statuses = (a.body.results as Array<{ status: string }>).map((x) => x.status);
      expect(new Set(statuses)).toEqual(new Set(['accepted']));
    }
    const stored = await app.db().query<{ stream_id: string; n: number; max: number }>(
      `SELECT stream_id, count(*)::int AS n, max(stream_version)::int AS max
         FROM events WHERE stream_id = ANY($1) GROUP BY stream_id`,
      [ids],
    );
    expect(stored.rows).toHaveLength(CONTRACTS);
    for (const row of stored.rows) expect({ n: row.n, max: row.max }).toEqual({ n: 24, max: 24 });
    expect((await conflicts(app.url())) - before).toBe(0);
  });
});

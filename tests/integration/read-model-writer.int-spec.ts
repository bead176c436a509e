/**
 * The projector's one write path (replaceReadModels) on a real PostgreSQL: every column type
 * written by COPY's text format reads back as given, text that COPY would read as special
 * (tab, newline, carriage return, backslash, a literal "\N") included; replacing a contract's
 * rows takes its obligations out of the per-unit counts.
 */
import { EVENT_STORE_MIGRATIONS, withTransaction } from '@app/event-store';
import { READ_MODEL_MIGRATIONS } from '@app/projections';
import { createTestDatabase, migrate, testPool, type TestDatabase } from '@app/testing';
import type { Pool } from 'pg';
import {
  READ_MODEL_COLUMNS,
  replaceReadModels,
  type ReadModelTable,
} from '../../libs/projections/src/read-model-writer';

const HOSTILE = 'a\tb\nc\rd\\e \\N 单位 "q" \'s\' 😀 \\\\t';

function contractRow(id: string, name: string) {
  return {
    contract_id: id,
    unit_code: 'U1',
    unit_name: name,
    region: '500101',
    supplier_credit_code: '91500000MA5U000001',
    supplier_name: `${name} 供应商`,
    supplier_size: 'small',
    sme: true,
    project_code: 'P\\1',
    project_name: null,
    award_amount_fen: '9007199254740993', // above 2^53: kept exact as text
    amount_fen: '100',
    prepayment_ratio: '0.3',
    awarded_on: '2024-02-29',
    signed_on: null,
    announced_on: null,
    filed_on: null,
    performance_completed_on: null,
    accepted_on: null,
    terminated_on: null,
    stage: 'awarded',
    prep_started_on: null,
    prep_threshold_percent: 30,
    prep_required_fen: '30',
    prep_met_on: null,
    prep_ended_on: null,
    prep_exempted_on: null,
    data_quality: [{ code: 'X', note: HOSTILE }],
    stream_version: 7,
    updated_at: '2026-12-04T01:02:03.456Z',
    payment_condition: null,
    payment_term_days: null,
    late_interest_rate: null,
  };
}

function obligationRow(id: string, key: string, status: string, interest: string | null) {
  return {
    contract_id: id,
    key,
    rule: key === 'sme' ? 'smePayment' : 'signing',
    unit_code: 'U1',
    region: '500101',
    supplier_credit_code: '91500000MA5U000001',
    sme: true,
    started_on: '2024-02-29',
    deadline: '2024-03-20',
    fulfilled_on: null,
    exempted_on: null,
    cancelled_on: null,
    provisional: false,
    working_day_rule: true,
    invoice_no: key === 'sme' ? HOSTILE : null,
    settled_on: 'infinity',
    final_status: status,
    policy: 'law',
    source: 'law §46',
    interest_final_on: key === 'sme' ? 'infinity' : null,
    interest_final_fen: interest,
  };
}

describe('read-model writer (real PostgreSQL, COPY)', () => {
  let db: TestDatabase;
  let pool: Pool;

  beforeAll(async () => {
    db = await createTestDatabase('rmwriter');
    await migrate(db.url, [...EVENT_STORE_MIGRATIONS, ...READ_MODEL_MIGRATIONS]);
    pool = testPool(db.url, 2);
  });
  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  const write = (replaced: string[], rows: Record<ReadModelTable, object[]>) =>
    withTransaction(pool, (c) => replaceReadModels(c, 'rm', replaced, rows));

  /** A table's rows for one contract, every written column as text (NULL as null). */
  const readBack = async (table: ReadModelTable, id: string) => {
    const cols = Object.keys(READ_MODEL_COLUMNS[table]);
    const { rows } = await pool.query<Record<string, string | null>>(
      `SELECT ${cols.map((n) => `${n}::text AS ${n}`).join(', ')} FROM rm.${table}
        WHERE contract_id = $1 ORDER BY 2`,
      [id],
    );
    return rows;
  };

  it('reads back every column as written, special characters, large fen and infinity included', async () => {
    const contract = contractRow('C-1', HOSTILE);
    await write([], {
      contracts: [contract],
      obligations: [
        obligationRow('C-1', 'sign', 'open', null),
        obligationRow('C-1', 'sme', 'late', '12'),
      ],
      invoices: [
        {
          contract_id: 'C-1',
          invoice_no: HOSTILE,
          supplier_credit_code: null,
          stage: 'final',
          amount_fen: '100',
          received_on: '2024-03-01',
          condition_on: null,
          started_on: '2024-03-01',
          due_on: '2024-03-31',
          provisional: true,
          paid_fen: '0',
          paid_on: null,
        },
      ],
      payments: [],
      allocations: [],
    });
    const [c] = await readBack('contracts', 'C-1');
    expect(c.unit_name).toBe(HOSTILE);
    expect(c.supplier_name).toBe(`${HOSTILE} 供应商`);
    expect(c.project_code).toBe('P\\1');
    expect(c.project_name).toBeNull();
    expect(c.award_amount_fen).toBe('9007199254740993');
    expect(c.sme).toBe('true');
    expect(c.prep_threshold_percent).toBe('30');
    expect(c.stream_version).toBe('7');
    expect(c.awarded_on).toBe('2024-02-29');
    expect(new Date(c.updated_at!).toISOString()).toBe('2026-12-04T01:02:03.456Z');
    const { rows: dq } = await pool.query(
      `SELECT data_quality FROM rm.contracts WHERE contract_id = 'C-1'`,
    );
    expect(dq[0].data_quality).toEqual(contract.data_quality);

    const obligations = await readBack('obligations', 'C-1');
    expect(
      obligations.map((o) => [
        o.key,
        o.settled_on,
        o.invoice_no,
        o.interest_final_on,
        o.working_day_rule,
      ]),
    ).toEqual([
      ['sign', 'infinity', null, null, 'true'],
      ['sme', 'infinity', HOSTILE, 'infinity', 'true'],
    ]);
    const [inv] = await readBack('invoices', 'C-1');
    expect([inv.invoice_no, inv.supplier_credit_code, inv.provisional, inv.paid_on]).toEqual([
      HOSTILE,
      null,
      'true',
      null,
    ]);
  });

  it('replacing a contract takes its obligations out of the per-unit counts and puts the new ones in', async () => {
    const counts = async () =>
      (
        await pool.query<{ rule: string; status: string; n: number; interest_fen: string }>(
          `SELECT rule, status, n, interest_fen::text FROM rm.unit_rule_counts
            WHERE unit_code = 'U1' AND n <> 0 ORDER BY 1, 2`,
        )
      ).rows;
    expect(await counts()).toEqual([
      { rule: 'signing', status: 'open', n: 1, interest_fen: '0' },
      { rule: 'smePayment', status: 'late', n: 1, interest_fen: '12' },
    ]);
    await write(['C-1'], {
      contracts: [contractRow('C-1', 'plain')],
      obligations: [obligationRow('C-1', 'sign', 'met', null)],
      invoices: [],
      payments: [],
      allocations: [],
    });
    expect(await counts()).toEqual([{ rule: 'signing', status: 'met', n: 1, interest_fen: '0' }]);
    expect((await readBack('contracts', 'C-1'))[0].unit_name).toBe('plain');
    expect(await readBack('invoices', 'C-1')).toEqual([]);
  });
});

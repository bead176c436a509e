import type { Sql } from '@app/event-store';

/**
 * The columns the projector writes, with their PostgreSQL types (read-model-ddl.ts), in the
 * keys of rowsOf's rows. Each table is written with one `INSERT … SELECT FROM unnest` of one
 * typed array per column.
 */
export const READ_MODEL_COLUMNS = {
  contracts: {
    contract_id: 'text',
    unit_code: 'text',
    unit_name: 'text',
    region: 'text',
    supplier_credit_code: 'text',
    supplier_name: 'text',
    supplier_size: 'text',
    sme: 'boolean',
    project_code: 'text',
    project_name: 'text',
    award_amount_fen: 'bigint',
    amount_fen: 'bigint',
    prepayment_ratio: 'text',
    awarded_on: 'date',
    signed_on: 'date',
    announced_on: 'date',
    filed_on: 'date',
    performance_completed_on: 'date',
    accepted_on: 'date',
    terminated_on: 'date',
    stage: 'text',
    prep_started_on: 'date',
    prep_threshold_percent: 'smallint',
    prep_required_fen: 'bigint',
    prep_met_on: 'date',
    prep_ended_on: 'date',
    prep_exempted_on: 'date',
    data_quality: 'jsonb',
    stream_version: 'integer',
    updated_at: 'timestamptz',
    payment_condition: 'text',
    payment_term_days: 'integer',
    late_interest_rate: 'text',
  },
  obligations: {
    contract_id: 'text',
    key: 'text',
    rule: 'text',
    unit_code: 'text',
    region: 'text',
    supplier_credit_code: 'text',
    sme: 'boolean',
    started_on: 'date',
    deadline: 'date',
    fulfilled_on: 'date',
    exempted_on: 'date',
    cancelled_on: 'date',
    provisional: 'boolean',
    working_day_rule: 'boolean',
    invoice_no: 'text',
    settled_on: 'date',
    final_status: 'text',
    policy: 'text',
    source: 'text',
    interest_final_on: 'date',
    interest_final_fen: 'bigint',
  },
  invoices: {
    contract_id: 'text',
    invoice_no: 'text',
    supplier_credit_code: 'text',
    stage: 'text',
    amount_fen: 'bigint',
    received_on: 'date',
    condition_on: 'date',
    started_on: 'date',
    due_on: 'date',
    provisional: 'boolean',
    paid_fen: 'bigint',
    paid_on: 'date',
  },
  payments: {
    contract_id: 'text',
    payment_id: 'text',
    supplier_credit_code: 'text',
    kind: 'text',
    amount_fen: 'bigint',
    paid_on: 'date',
    invoice_no: 'text',
    unallocated_fen: 'bigint',
  },
  allocations: {
    contract_id: 'text',
    invoice_no: 'text',
    payment_id: 'text',
    paid_on: 'date',
    amount_fen: 'bigint',
  },
} as const;

export type ReadModelTable = keyof typeof READ_MODEL_COLUMNS;

/** Children first: the order in which a contract's rows are deleted and inserted. */
const TABLES: readonly ReadModelTable[] = [
  'obligations',
  'invoices',
  'payments',
  'allocations',
  'contracts',
];

/**
 * Replaces the read-model rows of the given contracts in the caller's transaction, and keeps
 * the per-unit counts and final SME interest (`unit_rule_counts`) in step: the rows of
 * `replaced` are deleted (their obligations leave the counts in the same statement), then
 * `rows` are inserted and their
 * obligations enter the counts. The one write path of the projector's tail, its catch-up
 * pass and the calendar and policy applies.
 */
export async function replaceReadModels(
  c: Sql,
  schema: string,
  replaced: readonly string[],
  rows: Readonly<Record<ReadModelTable, readonly object[]>>,
): Promise<void> {
  const q = `"${schema}"`;
  if (replaced.length > 0) {
    for (const t of TABLES) {
      const del = `DELETE FROM ${q}.${t} WHERE contract_id = ANY($1::text[])`;
      await c.query(
        t === 'obligations'
          ? `WITH gone AS (${del} RETURNING unit_code, region, rule, final_status, interest_final_fen)
             INSERT INTO ${q}.unit_rule_counts AS u (unit_code, region, rule, status, n, interest_fen)
             SELECT unit_code, coalesce(region, ''), rule, final_status, -count(*),
                    -coalesce(sum(interest_final_fen), 0)
               FROM gone WHERE unit_code IS NOT NULL GROUP BY 1, 2, 3, 4
             ON CONFLICT (unit_code, region, rule, status)
             DO UPDATE SET n = u.n + excluded.n, interest_fen = u.interest_fen + excluded.interest_fen`
          : del,
        [replaced],
      );
    }
  }
  for (const t of TABLES) await insertRows(c, q, t, rows[t]);
  await addCounts(c, q, rows.obligations as readonly ObligationCountKey[]);
}

async function insertRows(
  c: Sql,
  q: string,
  table: ReadModelTable,
  rows: readonly object[],
): Promise<void> {
  if (rows.length === 0) return;
  const columns = Object.entries(READ_MODEL_COLUMNS[table]);
  const values = columns.map(([name, type]) => {
    const out = new Array<unknown>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const v = (rows[i] as Record<string, unknown>)[name];
      out[i] = type === 'jsonb' && v !== null && v !== undefined ? JSON.stringify(v) : v;
    }
    return out;
  });
  await c.query(
    `INSERT INTO ${q}.${table} (${columns.map(([n]) => n).join(', ')})
     SELECT * FROM unnest(${columns.map(([, type], i) => `$${i + 1}::${type}[]`).join(', ')})`,
    values,
  );
}

const SEP = '\u0000'; // in no text PostgreSQL stores

interface ObligationCountKey {
  unit_code: string | null;
  region: string | null;
  rule: string;
  final_status: string;
  /** integer fen as a decimal string (rowsOf), null when not final */
  interest_final_fen: string | null;
}

/** The inserted obligations enter the per-unit counts and interest: grouped here, one upsert. */
async function addCounts(
  c: Sql,
  q: string,
  obligations: readonly ObligationCountKey[],
): Promise<void> {
  const counts = new Map<string, { n: number; fen: bigint }>();
  for (const o of obligations) {
    if (o.unit_code === null) continue;
    const k = [o.unit_code, o.region ?? '', o.rule, o.final_status].join(SEP);
    let v = counts.get(k);
    if (!v) counts.set(k, (v = { n: 0, fen: 0n }));
    v.n++;
    if (o.interest_final_fen !== null) v.fen += BigInt(o.interest_final_fen);
  }
  if (counts.size === 0) return;
  const cols: [string[], string[], string[], string[], number[], string[]] = [
    [],
    [],
    [],
    [],
    [],
    [],
  ];
  for (const [k, v] of counts) {
    const [unit, region, rule, status] = k.split(SEP);
    cols[0].push(unit);
    cols[1].push(region);
    cols[2].push(rule);
    cols[3].push(status);
    cols[4].push(v.n);
    cols[5].push(v.fen.toString());
  }
  await c.query(
    `INSERT INTO ${q}.unit_rule_counts AS u (unit_code, region, rule, status, n, interest_fen)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::bigint[])
     ON CONFLICT (unit_code, region, rule, status)
     DO UPDATE SET n = u.n + excluded.n, interest_fen = u.interest_fen + excluded.interest_fen`,
    cols,
  );
}

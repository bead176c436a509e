import { copyIn, copyText, type Sql } from '@app/event-store';

/**
 * The columns the projector writes, with their PostgreSQL types (read-model-ddl.ts), in the
 * keys of rowsOf's rows. Each table is written with one `COPY … FROM STDIN` (text format).
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
 * Refreshes the planner's statistics of the read-model tables (ANALYZE) in the caller's
 * transaction. The projector's statements pick their plans from them: on tables never
 * analyzed since they were created or emptied, PostgreSQL takes `contract_id = ANY(…500 ids)`
 * to match every row and scans the whole table. The catch-up pass calls this as the tables
 * grow and at its end (see ComplianceProjector.step), so as not to depend on autovacuum, which
 * may be off. `quick`: a sample of 3,000 rows a table instead of 30,000 (statistics target 10,
 * enough for the projector's own lookups by contract; 79 ms against 758 ms for the six tables
 * of the small feed); the end of a pass takes the full sample, which the query endpoints plan
 * with.
 */
export async function analyzeReadModels(c: Sql, schema: string, quick: boolean): Promise<void> {
  const q = `"${schema}"`;
  if (quick) await c.query(`SET LOCAL default_statistics_target = 10`);
  await c.query(`ANALYZE ${[...TABLES, 'unit_rule_counts'].map((t) => `${q}.${t}`).join(', ')}`);
}

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

/** A value of a column of this type in COPY's text format; null and undefined are NULL. */
type Encode = (v: unknown) => string;

const NULL = '\\N';

const ENCODERS: Record<string, Encode> = {
  text: (v) => (v === null || v === undefined ? NULL : copyText(v as string)),
  boolean: (v) => (v === null || v === undefined ? NULL : v ? 't' : 'f'),
  jsonb: (v) => (v === null || v === undefined ? NULL : copyText(JSON.stringify(v))),
  // bigint (integer fen as a decimal string), integer, smallint, date (YYYY-MM-DD or
  // 'infinity'), timestamptz (ISO 8601): no character COPY would read as special
  other: (v) => (v === null || v === undefined ? NULL : (v as string | number).toString()),
};

/** Per table: each column's name and encoder, in column order. */
const COPY_OF = Object.fromEntries(
  Object.entries(READ_MODEL_COLUMNS).map(([table, columns]) => [
    table,
    {
      names: Object.keys(columns),
      encoders: Object.values(columns).map((type: string) => ENCODERS[type] ?? ENCODERS.other),
    },
  ]),
) as Record<ReadModelTable, { names: string[]; encoders: Encode[] }>;

/**
 * Inserts `rows` into `table` with one COPY in the caller's transaction: per row, PostgreSQL
 * parses one text line instead of one element of each of a statement's typed arrays, and the
 * lines cost Node less than pg's encoding of those arrays (session 11, docs/benchmarks.md).
 */
async function insertRows(
  c: Sql,
  q: string,
  table: ReadModelTable,
  rows: readonly object[],
): Promise<void> {
  if (rows.length === 0) return;
  const { names, encoders } = COPY_OF[table];
  const lines = function* () {
    for (const row of rows) {
      const r = row as Record<string, unknown>;
      let line = encoders[0](r[names[0]]);
      for (let i = 1; i < names.length; i++) line += '\t' + encoders[i](r[names[i]]);
      yield line + '\n';
    }
  };
  await copyIn(c, `COPY ${q}.${table} (${names.join(', ')}) FROM STDIN`, lines());
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

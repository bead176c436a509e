import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { OBLIGATION_RULE_IDS } from '@app/domain';
import { PgEventStore } from '@app/event-store';
import { ReadPool } from '@app/platform';
import { LIVE_SCHEMA } from '../read-model-ddl';
import { obligationView } from './get-contract.query-handler';
import {
  OcdsContractsQuery,
  type OcdsContractData,
  type OcdsContractsPage,
} from './ocds-contracts.query';
import { scopeSql } from './scope';
import { obligationStatusColumns, type ObligationStatusRow } from './status-sql';

const RM = `"${LIVE_SCHEMA}"`;
/** Not facts of the contracting process: the export leaves them out (exemptions show in the results). */
const NOT_EXPORTED = new Set(['EventRetracted', 'ObligationExempted']);

@QueryHandler(OcdsContractsQuery)
export class OcdsContractsHandler implements IQueryHandler<OcdsContractsQuery> {
  constructor(
    private readonly db: ReadPool,
    private readonly store: PgEventStore,
  ) {}

  async execute(q: OcdsContractsQuery): Promise<OcdsContractsPage> {
    const values: unknown[] = [];
    const where = [scopeSql(q.scope, 'c', values)];
    const f = q.filter;
    if (f.contractId) where.push(`c.contract_id = $${values.push(f.contractId)}`);
    if (f.unit) where.push(`c.unit_code = $${values.push(f.unit)}`);
    if (f.from) where.push(`coalesce(c.awarded_on, c.signed_on) >= $${values.push(f.from)}::date`);
    if (f.to) where.push(`coalesce(c.awarded_on, c.signed_on) <= $${values.push(f.to)}::date`);
    if (q.after !== null) where.push(`c.contract_id > $${values.push(q.after)}`);
    const { rows } = await this.db.pool.query<{
      contract_id: string;
      stage: string;
      data_quality: OcdsContractData['dataQuality'];
      stream_version: number;
    }>(
      `SELECT c.contract_id, c.stage, c.data_quality, c.stream_version FROM ${RM}.contracts c
        WHERE ${where.join(' AND ')} ORDER BY c.contract_id LIMIT ${q.limit + 1}`,
      values,
    );
    const page = rows.slice(0, q.limit);
    const ids = page.map((r) => r.contract_id);
    if (ids.length === 0) return { items: [], next: null };
    const st = obligationStatusColumns('o', '$2::date');
    const [obligations, events] = await Promise.all([
      this.db.pool.query<ObligationStatusRow>(
        `SELECT o.*, ${st.columns} FROM ${RM}.obligations o ${st.lateral}
          WHERE o.contract_id = ANY($1::text[]) AND o.started_on <= $2::date
          ORDER BY o.contract_id, o.started_on, array_position($3::text[], o.rule), o.key`,
        [ids, q.asOf, OBLIGATION_RULE_IDS],
      ),
      this.store.readStreams(this.db.pool, ids),
    ]);
    const items = new Map<string, OcdsContractData>();
    const versions = new Map<string, number>();
    for (const r of page) {
      versions.set(r.contract_id, r.stream_version);
      items.set(r.contract_id, {
        contractId: r.contract_id,
        asOf: q.asOf,
        stage: r.stage,
        dataQuality: r.data_quality,
        obligations: [],
        events: [],
      });
    }
    for (const o of obligations.rows)
      items.get(o.contract_id)!.obligations.push(obligationView(o, q.asOf));
    const retracted = new Set(
      events
        .filter((e) => e.type === 'EventRetracted')
        .map((e) => String(e.data.retractedEventId).toLowerCase()),
    );
    for (const e of events) {
      // consistent with the read model's rows: facts it has not projected yet wait
      if (e.streamVersion > versions.get(e.streamId)!) continue;
      if (NOT_EXPORTED.has(e.type) || retracted.has(e.eventId)) continue;
      items.get(e.streamId)!.events.push({
        eventId: e.eventId,
        type: e.type,
        occurredAt: e.occurredAt,
        data: e.data,
        correlationId: e.metadata.correlationId ?? null,
      });
    }
    return {
      items: [...items.values()],
      next: rows.length > q.limit ? ids[ids.length - 1] : null,
    };
  }
}

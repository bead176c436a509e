import { createHash } from 'node:crypto';
import {
  BUILT_IN_POLICIES,
  overlappingLayer,
  PolicyProblemCodes,
  validatePolicyLayer,
  type PolicyLayer,
  type PolicyProblem,
} from '@app/domain';
import { withTransaction } from '@app/event-store';
import type { Pool, PoolClient } from 'pg';
import type { ComplianceProjector } from './projector';
import { LIVE_SCHEMA } from './read-model-ddl';
import { lockRulesExclusively } from './rules-lock';

type Sql = Pick<PoolClient, 'query'>;

/** A stored version of a layer, as `GET /v1/policies` lists it. */
export interface StoredPolicyLayer extends PolicyLayer {
  /** 0: the built-in layer as the code has it, never changed through the API */
  version: number;
  builtIn: boolean;
  changedBy: string | null;
  changedAt: string | null;
  /** earlier versions, newest first */
  history: Array<{ version: number; changedBy: string; changedAt: string; layer: PolicyLayer }>;
}

export interface PolicyApplyResult {
  outcome: 'applied' | 'up-to-date' | 'busy';
  version: string | null;
  /** layers that changed, and the contracts recomputed for them */
  layers: string[];
  contracts: number;
}

/** The applied layers' fingerprint as a scalar subquery (null: the built-in layers). */
export const APPLIED_FINGERPRINT_SQL = '(SELECT applied_fingerprint FROM policy_state)';

/** A layer change that cannot be applied: never stored. */
export class PolicyRefused extends Error {
  constructor(readonly problem: PolicyProblem) {
    super(problem.message);
  }
}

function fingerprintOf(layers: readonly PolicyLayer[]): string {
  return createHash('sha256').update(JSON.stringify(layers)).digest('hex');
}

/** The built-in layers with the stored ones (latest version of each id) in their place, by id. */
function merge(stored: readonly PolicyLayer[]): PolicyLayer[] {
  const byId = new Map(BUILT_IN_POLICIES.map((l) => [l.id, l]));
  for (const l of stored) byId.set(l.id, l);
  return [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * Policy layers as data (SPEC §6), applied the way calendar uploads are (docs/decisions.md
 * "Calendar", "Policies"): the layers in force are the built-in ones replaced or extended by
 * the versions stored through `PUT /v1/admin/policies/{id}` (`policy_layers`, every version
 * kept); what the read models were computed with is recorded in `policy_state`
 * (`applied_version`, `applied_layers`, `applied_fingerprint`). `apply` brings it to the
 * layers in force in one transaction under the rules lock (exclusive): records the new set as
 * applied and recomputes every stored contract a changed layer can reach (its region starts
 * with one of the layer's prefixes, before or after the change). The projector leader does
 * it on its tick (through CalendarService), a rebuild before it starts; every instance and
 * every batch computes with the applied set, read from the database (`applied`).
 */
export class PolicyService {
  /** the applied layers, by fingerprint (filled from the database) */
  private appliedSet: { fingerprint: string; layers: PolicyLayer[] } | null = null;
  /** the fingerprint of the layers in force at one stored version (the leader's cheap check) */
  private inForceAt: { version: string; fingerprint: string } | null = null;

  constructor(private readonly pool: Pool) {}

  /** The layers in force now (built-in + stored) and the stored version they were read at. */
  async inForce(c: Sql = this.pool): Promise<{ version: string; layers: PolicyLayer[] }> {
    const { rows } = await c.query<{ version: string; stored: PolicyLayer[] }>(
      `SELECT s.version::text AS version,
              coalesce((SELECT json_agg(l.layer ORDER BY l.id) FROM (
                  SELECT DISTINCT ON (id) id, layer FROM policy_layers ORDER BY id, version DESC) l),
                '[]'::json) AS stored
         FROM policy_state s`,
    );
    return { version: rows[0].version, layers: merge(rows[0].stored) };
  }

  /** Whether a stored change waits to be applied (marks nothing). */
  async pending(c: Sql = this.pool): Promise<boolean> {
    const { rows } = await c.query<{ pending: boolean }>(
      `SELECT applied_fingerprint IS NULL OR applied_version IS DISTINCT FROM version AS pending
         FROM policy_state`,
    );
    return rows[0].pending;
  }

  /** Every layer in force with its version and history (GET /v1/policies). */
  async list(c: Sql = this.pool): Promise<StoredPolicyLayer[]> {
    const { rows } = await c.query<{
      id: string;
      version: number;
      layer: PolicyLayer;
      changed_by: string;
      changed_at: Date;
    }>(
      'SELECT id, version, layer, changed_by, changed_at FROM policy_layers ORDER BY id, version DESC',
    );
    const { layers } = await this.inForce(c);
    return layers.map((l) => {
      const versions = rows.filter((r) => r.id === l.id);
      const [latest, ...older] = versions;
      const builtIn = BUILT_IN_POLICIES.some((b) => b.id === l.id);
      return {
        ...l,
        version: latest?.version ?? 0,
        builtIn,
        changedBy: latest?.changed_by ?? null,
        changedAt: latest?.changed_at.toISOString() ?? null,
        history: older.map((r) => ({
          version: r.version,
          changedBy: r.changed_by,
          changedAt: r.changed_at.toISOString(),
          layer: r.layer,
        })),
      };
    });
  }

  /**
   * Adds or replaces layer `id` (PUT /v1/admin/policies/{id}): validated (SPEC §6 shape,
   * known rules, periods of at least a day, region prefixes of digits, dates), refused when it
   * would share a region prefix with another layer over overlapping dates; stored as a new
   * version and the stored version bumped, in one transaction. Applied by the projector
   * leader's next tick. Throws PolicyRefused, storing nothing, when refused.
   */
  async put(id: string, input: unknown, changedBy: string): Promise<StoredPolicyLayer> {
    const v = validatePolicyLayer(id, input);
    if (!v.ok) throw new PolicyRefused(v.problem);
    await withTransaction(this.pool, async (c) => {
      // serialises changes: the overlap check sees every committed change
      await c.query('SELECT version FROM policy_state FOR UPDATE');
      const { layers } = await this.inForce(c);
      const other = overlappingLayer(v.value, layers);
      if (other)
        throw new PolicyRefused({
          code: PolicyProblemCodes.OVERLAPPING,
          path: 'regions',
          message: `layer ${other.id} has a region prefix of this one over overlapping dates: which counts would be a guess; narrow one's dates or regions`,
        });
      await c.query(
        `INSERT INTO policy_layers (id, version, layer, changed_by)
         SELECT $1, coalesce(max(version), 0) + 1, $2::jsonb, $3 FROM policy_layers WHERE id = $1`,
        [id, JSON.stringify(v.value), changedBy],
      );
      await c.query('UPDATE policy_state SET version = version + 1');
    });
    return (await this.list()).find((l) => l.id === id)!;
  }

  /**
   * The applied layers, read from the database (cached by fingerprint: one small query when
   * unchanged). A projector batch asks in its transaction, where it holds the rules lock
   * shared (CalendarService.forTransaction takes it); the query endpoints for their as-of
   * re-assessments. Built-in layers while none was ever applied (a database migrated while no
   * instance had applied yet).
   */
  async applied(c: Sql = this.pool): Promise<readonly PolicyLayer[]> {
    const { rows } = await c.query<{ f: string | null }>(`SELECT ${APPLIED_FINGERPRINT_SQL} AS f`);
    return this.appliedWith(rows[0]?.f ?? null, c);
  }

  /**
   * `applied` with the fingerprint already read (APPLIED_FINGERPRINT_SQL as a column of the
   * caller's own statement, saving a round trip): the layers are read only when this
   * instance does not hold the ones of that fingerprint.
   */
  async appliedWith(f: string | null, c: Sql = this.pool): Promise<readonly PolicyLayer[]> {
    if (f === null) return BUILT_IN_POLICIES;
    if (this.appliedSet?.fingerprint !== f) {
      // the fingerprint read again with the layers: an apply in between must not leave newer
      // layers cached under the older fingerprint
      const r = await c.query<{ f: string | null; layers: PolicyLayer[] | null }>(
        'SELECT applied_fingerprint AS f, applied_layers AS layers FROM policy_state',
      );
      const row = r.rows[0];
      if (!row?.f || !row.layers) return BUILT_IN_POLICIES;
      this.appliedSet = { fingerprint: row.f, layers: row.layers };
    }
    return this.appliedSet.layers;
  }

  /**
   * The leader's check on every tick: applies the layers in force when they are not the
   * applied ones (a change not yet applied, or this instance's built-in layers differ from
   * what was applied). Null when nothing was to do.
   */
  async applyIfChanged(projector: ComplianceProjector): Promise<PolicyApplyResult | null> {
    const { rows } = await this.pool.query<{
      version: string;
      applied_version: string | null;
      applied_fingerprint: string | null;
    }>('SELECT version::text, applied_version::text, applied_fingerprint FROM policy_state');
    const s = rows[0];
    if (s.applied_version === s.version && s.applied_fingerprint !== null) {
      if (this.inForceAt?.version !== s.version) {
        const next = await this.inForce();
        this.inForceAt = { version: next.version, fingerprint: fingerprintOf(next.layers) };
      }
      if (this.inForceAt.fingerprint === s.applied_fingerprint) return null;
    }
    return this.apply(projector);
  }

  /**
   * Applies the layers in force, in one transaction, under the rules lock (exclusive; `wait`
   * false: `busy` instead of waiting): records them as applied and recomputes in the live read
   * models every contract a changed layer reaches (before the first apply: every contract).
   * Throws (and rolls back) on any failure.
   */
  apply(
    projector?: ComplianceProjector,
    opts: { wait?: boolean } = {},
  ): Promise<PolicyApplyResult> {
    return withTransaction(this.pool, async (c) => {
      if (!(await lockRulesExclusively(c, opts.wait === true)))
        return { outcome: 'busy', version: null, layers: [], contracts: 0 };
      const { rows } = await c.query<{
        version: string;
        applied_version: string | null;
        applied_fingerprint: string | null;
        applied_layers: PolicyLayer[] | null;
      }>(
        `SELECT version::text, applied_version::text, applied_fingerprint, applied_layers
           FROM policy_state FOR UPDATE`,
      );
      const s = rows[0];
      const next = await this.inForce(c);
      const fingerprint = fingerprintOf(next.layers);
      if (fingerprint === s.applied_fingerprint) {
        if (s.applied_version === s.version)
          return { outcome: 'up-to-date', version: s.version, layers: [], contracts: 0 };
        await c.query('UPDATE policy_state SET applied_version = version, applied_at = now()');
        return { outcome: 'applied', version: s.version, layers: [], contracts: 0 };
      }
      const changed = changedLayers(s.applied_layers, next.layers);
      await c.query(
        `UPDATE policy_state SET applied_version = version, applied_fingerprint = $1,
                applied_layers = $2::jsonb, applied_at = now()`,
        [fingerprint, JSON.stringify(next.layers)],
      );
      // the recompute below reads the applied layers through `applied`: these
      this.appliedSet = { fingerprint, layers: next.layers };
      const ids = await affectedContracts(c, LIVE_SCHEMA, changed.prefixes);
      if (ids.length > 0 && !projector)
        throw new Error(`the policy change needs ${ids.length} contracts recomputed`);
      for (let i = 0; i < ids.length; i += 1000)
        await projector!.recompute(c, LIVE_SCHEMA, ids.slice(i, i + 1000));
      return { outcome: 'applied', version: s.version, layers: changed.ids, contracts: ids.length };
    });
  }
}

/**
 * Layers that differ between two sets (by id), and the region prefixes they cover, before and
 * after. Null before: never applied, every contract (prefix "").
 */
function changedLayers(
  before: readonly PolicyLayer[] | null,
  after: readonly PolicyLayer[],
): { ids: string[]; prefixes: string[] } {
  if (before === null) return { ids: after.map((l) => l.id), prefixes: [''] };
  const a = new Map(before.map((l) => [l.id, l]));
  const b = new Map(after.map((l) => [l.id, l]));
  const ids = [...new Set([...a.keys(), ...b.keys()])]
    .filter((id) => JSON.stringify(a.get(id)) !== JSON.stringify(b.get(id)))
    .sort();
  const prefixes = new Set<string>();
  for (const id of ids)
    for (const l of [a.get(id), b.get(id)]) for (const p of l?.regions ?? []) prefixes.add(p);
  return { ids, prefixes: [...prefixes] };
}

/** Contracts of units whose region starts with one of `prefixes` ("" : every contract). */
async function affectedContracts(c: Sql, schema: string, prefixes: string[]): Promise<string[]> {
  if (prefixes.length === 0) return [];
  const { rows } = await c.query<{ contract_id: string }>(
    prefixes.includes('')
      ? `SELECT contract_id FROM "${schema}".contracts`
      : `SELECT contract_id FROM "${schema}".contracts
          WHERE region LIKE ANY (SELECT p || '%' FROM unnest($1::text[]) p)`,
    prefixes.includes('') ? [] : [prefixes],
  );
  return rows.map((r) => r.contract_id);
}

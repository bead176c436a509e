import autocannon from 'autocannon';
import { sql } from './pg';

export interface LatencyResult {
  requests: number;
  non2xx: number;
  errors: number;
  rps: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface QueryTarget {
  name: string;
  /** paths to cycle through at random (query string included) */
  paths: string[];
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/**
 * Latency of one endpoint under `connections` concurrent keep-alive clients for `seconds`,
 * each request on a path drawn at random from `paths`. Percentiles are computed from every
 * response time (not autocannon's summary, which has no p95).
 */
export async function measureLatency(
  baseUrl: string,
  token: string,
  target: QueryTarget,
  opts: { connections: number; seconds: number; seed?: number },
): Promise<LatencyResult> {
  let s = opts.seed ?? 7;
  const next = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 4294967296;
  };
  const times: number[] = [];
  const r = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: baseUrl,
        connections: opts.connections,
        duration: opts.seconds,
        headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
        requests: [
          {
            method: 'GET',
            setupRequest: (req) => ({
              ...req,
              path: target.paths[Math.floor(next() * target.paths.length)],
            }),
          },
        ],
      },
      (err, res) =>
        err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(res),
    );
    instance.on('response', (_client, _status, _bytes, responseTime) => {
      times.push(responseTime);
    });
  });
  times.sort((a, b) => a - b);
  return {
    requests: times.length,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
    rps: times.length / opts.seconds,
    p50Ms: percentile(times, 50),
    p95Ms: percentile(times, 95),
    p99Ms: percentile(times, 99),
    maxMs: times[times.length - 1] ?? NaN,
  };
}

/** Sample ids from the read models: units and contracts to vary requests over. */
export async function sampleIds(
  url: string,
  n = 1000,
): Promise<{ units: string[]; contracts: string[] }> {
  const units = await sql<{ unit_code: string }>(
    url,
    `SELECT unit_code FROM (SELECT DISTINCT unit_code FROM rm.contracts WHERE unit_code IS NOT NULL) u
      ORDER BY md5(unit_code) LIMIT $1`,
    [n],
  );
  const contracts = await sql<{ contract_id: string }>(
    url,
    `SELECT contract_id FROM rm.contracts TABLESAMPLE SYSTEM (10) REPEATABLE (42) LIMIT $1`,
    [n],
  );
  return { units: units.map((r) => r.unit_code), contracts: contracts.map((r) => r.contract_id) };
}

/**
 * The four read endpoints and the overview's three, "as of today" (no asOf) and at a
 * historical date; the upcoming deadlines; the SME disclosure and payment performance of the
 * year before the historical date.
 */
export function queryTargets(
  ids: { units: string[]; contracts: string[] },
  historical: string,
): QueryTarget[] {
  const targets: QueryTarget[] = [];
  for (const [suffix, asOf] of [
    ['today', ''],
    [historical, historical],
  ] as const) {
    const q = (more: string) => {
      const parts = [more, asOf ? `asOf=${asOf}` : ''].filter(Boolean);
      return parts.length ? `?${parts.join('&')}` : '';
    };
    targets.push({
      name: `GET /v1/units (${suffix})`,
      paths: [1, 2, 3].map((page) => `/v1/units${q(`page=${page}`)}`),
    });
    targets.push({
      name: `GET /v1/units/{code}/compliance (${suffix})`,
      paths: ids.units.map((u) => `/v1/units/${encodeURIComponent(u)}/compliance${q('')}`),
    });
    targets.push({
      name: `GET /v1/violations (${suffix})`,
      paths: [1, 2, 3].map((page) => `/v1/violations${q(`page=${page}`)}`),
    });
    targets.push({
      name: `GET /v1/contracts/{id} (${suffix})`,
      paths: ids.contracts.map((c) => `/v1/contracts/${encodeURIComponent(c)}${q('')}`),
    });
    // what the dashboard's overview waits for (SPEC §9), with its defaults
    for (const api of ['overview', 'trends', 'regions'])
      targets.push({ name: `GET /v1/${api} (${suffix})`, paths: [`/v1/${api}${q('')}`] });
  }
  // open obligations due within 10 working days (SPEC §8; today only: it has no asOf)
  targets.push({
    name: 'GET /v1/deadlines (today)',
    paths: [1, 2].map((page) => `/v1/deadlines?within=10&page=${page}`),
  });
  // SME payment (SPEC §7): the annual disclosure (as of 31 December) and a year of payment
  // performance per unit; their dates are in the query, not asOf
  const year = Number(historical.slice(0, 4)) - 1;
  targets.push({
    name: `GET /v1/reports/sme-overdue (year ${year})`,
    paths: [`/v1/reports/sme-overdue?year=${year}`],
  });
  targets.push({
    name: `GET /v1/units/{code}/payment-performance (${year})`,
    paths: ids.units.map(
      (u) =>
        `/v1/units/${encodeURIComponent(u)}/payment-performance?from=${year}-01-01&to=${year}-12-31`,
    ),
  });
  return targets;
}

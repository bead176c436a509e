/**
 * /metrics (issue #11, item 6): prom-client's text format with a registry per application.
 * Scraped before and after real traffic — events over HTTP (accepted, duplicate, rejected),
 * queries, a 404 of a route and one of no route — every family is there and moves: request
 * durations by route pattern and status, ingestion outcomes, the projector, the pools, the
 * Kafka figures, the process.
 */
import request from 'supertest';
import { ev } from '@app/testing';
import { auth } from '../support/auth';
import { startTestApp, type TestApp } from '../support/test-app';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (format 0.0.4). */
function parse(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[k] = v.replace(/\\"/g, '"').replace(/\\n/g, '\n').replace(/\\\\/g, '\\');
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

class Scrape {
  readonly samples: Sample[];
  constructor(readonly text: string) {
    this.samples = parse(text);
  }

  /** Families declared (# TYPE lines). */
  families(): Map<string, string> {
    return new Map(
      [...this.text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]] as const),
    );
  }

  /** The sum of the samples of `name` whose labels include `labels` (0 when none). */
  value(name: string, labels: Record<string, string> = {}): number {
    return this.samples
      .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
      .reduce((a, s) => a + s.value, 0);
  }

  has(name: string, labels: Record<string, string> = {}): boolean {
    return this.samples.some(
      (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
    );
  }
}

describe('/metrics (e2e)', () => {
  let t: TestApp;
  const scrape = async (app = t) => {
    const res = await request(app.url).get('/metrics').expect(200);
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    return new Scrape(res.text);
  };
  const waitFor = async (what: string, ok: () => Promise<boolean>, ms = 20_000) => {
    const until = Date.now() + ms;
    while (!(await ok())) {
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  beforeAll(async () => {
    t = await startTestApp({ env: { ROLE_PROJECTOR: 'true', PROJECTOR_IDLE_MS: '50' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('shows every family, and each moves with HTTP traffic, ingestion, projection and queries', async () => {
    const before = await scrape();
    const families = before.families();
    expect(Object.fromEntries(families)).toEqual(
      expect.objectContaining({
        http_request_duration_seconds: 'histogram',
        ingestion_events_total: 'counter',
        ingestion_append_conflicts_total: 'counter',
        ingestion_decision_states_total: 'counter',
        ingestion_decision_states_remembered: 'gauge',
        projector_state: 'gauge',
        projector_position: 'gauge',
        projector_lag_events: 'gauge',
        projector_projected_events_total: 'counter',
        projector_batch_duration_seconds: 'histogram',
        db_pool_connections: 'gauge',
        db_pool_idle_connections: 'gauge',
        db_pool_waiting_clients: 'gauge',
        db_pool_max_connections: 'gauge',
        kafka_consumer_consumed_total: 'counter',
        kafka_consumer_events_total: 'counter',
        kafka_consumer_rejected_total: 'counter',
        kafka_consumer_dead_lettered_total: 'counter',
        kafka_consumer_retries_total: 'counter',
        kafka_consumer_commits_total: 'counter',
        kafka_consumer_lag: 'gauge',
        kafka_consumer_partition_stuck: 'gauge',
        kafka_consumer_partition_stuck_seconds: 'gauge',
        kafka_consumer_assigned_partitions: 'gauge',
        process_resident_memory_bytes: 'gauge',
        process_cpu_seconds_total: 'counter',
        nodejs_eventloop_lag_seconds: 'gauge',
        nodejs_heap_size_used_bytes: 'gauge',
      }),
    );
    // the Kafka figures as they always were (no consumer in this app)
    expect(before.text).toContain('\nkafka_consumer_consumed_total 0\n');
    expect(before.text).toContain('\nkafka_consumer_events_total{outcome="accepted"} 0\n');
    expect(before.value('process_resident_memory_bytes')).toBeGreaterThan(1_000_000);
    expect(before.value('db_pool_max_connections', { pool: 'write' })).toBe(t.config.dbPoolSize);
    expect(before.value('db_pool_max_connections', { pool: 'read' })).toBe(t.config.dbReadPoolSize);
    expect(before.value('projector_state', { state: 'disabled' })).toBe(0);

    // traffic: accepted, duplicate and rejected events; queries; two kinds of 404
    const C = 'MET-1';
    const award = ev.award(C, '2021-09-13');
    const post = (body: unknown) =>
      request(t.url)
        .post('/v1/events')
        .set(auth('platform'))
        .send(body as object);
    expect((await post(award)).status).toBe(202);
    expect((await post(award)).status).toBe(200);
    const bad = await post({ ...ev.signed(C, '2021-09-20'), type: 'NoSuchType' });
    expect(bad.status).toBe(400);
    const badCode = bad.body.code as string;
    const batch = await post([ev.signed(C, '2021-09-20'), ev.announced(C, '2021-09-21')]);
    expect(batch.body.results.map((r: { status: string }) => r.status)).toEqual([
      'accepted',
      'accepted',
    ]);
    await waitFor(
      'the projector',
      async () => (await scrape()).value('projector_projected_events_total') >= 3,
    );
    await request(t.url).get(`/v1/contracts/${C}`).set(auth('inspector')).expect(200);
    await request(t.url).get('/v1/contracts/MET-NOWHERE').set(auth('inspector')).expect(404);
    await request(t.url).get('/v1/units').set(auth('inspector')).expect(200);
    // an unknown API route (any other path is a page of the dashboard)
    await request(t.url).get('/v1/no/such/route').expect(404);
    await request(t.url).get(`/v1/contracts/${C}`).expect(401);

    const after = await scrape();
    const moved = (name: string, labels: Record<string, string> = {}) =>
      after.value(name, labels) - before.value(name, labels);
    const requests = (method: string, route: string, status: number) =>
      moved('http_request_duration_seconds_count', {
        method,
        route,
        status_code: String(status),
      });

    // request durations by route pattern and status (never the raw URL)
    expect(requests('POST', '/v1/events', 202)).toBe(1);
    expect(requests('POST', '/v1/events', 200)).toBe(2); // the duplicate and the array
    expect(requests('POST', '/v1/events', 400)).toBe(1);
    expect(requests('GET', '/v1/contracts/:contractId', 200)).toBe(1);
    expect(requests('GET', '/v1/contracts/:contractId', 404)).toBe(1);
    expect(requests('GET', '/v1/contracts/:contractId', 401)).toBe(1);
    expect(requests('GET', '/v1/units', 200)).toBe(1);
    expect(requests('GET', '(unmatched)', 404)).toBe(1);
    expect(requests('GET', '/metrics', 200)).toBeGreaterThanOrEqual(1);
    const series = { method: 'GET', route: '/v1/contracts/:contractId', status_code: '200' };
    expect(after.value('http_request_duration_seconds_bucket', { ...series, le: '+Inf' })).toBe(
      after.value('http_request_duration_seconds_count', series),
    );
    expect(after.has('http_request_duration_seconds_bucket', { ...series, le: '0.005' })).toBe(
      true,
    );
    expect(after.value('http_request_duration_seconds_sum', series)).toBeGreaterThan(0);
    const routes = new Set(
      after.samples.filter((s) => s.name.startsWith('http_')).map((s) => s.labels.route),
    );
    for (const r of routes) expect(r).not.toMatch(/MET-|no\/such/);

    // ingestion outcomes by door and code
    expect(moved('ingestion_events_total', { path: 'http', outcome: 'accepted' })).toBe(3);
    expect(moved('ingestion_events_total', { path: 'http', outcome: 'duplicate' })).toBe(1);
    expect(
      moved('ingestion_events_total', { path: 'http', outcome: 'rejected', code: badCode }),
    ).toBe(1);
    expect(
      after.has('ingestion_events_total', { path: 'http', outcome: 'accepted', code: '' }),
    ).toBe(false);
    // the decision states they were decided on: MET-1 read from the store once (its first
    // event), then remembered for the duplicate and the array
    expect(moved('ingestion_decision_states_total', { from: 'store' })).toBe(1);
    expect(moved('ingestion_decision_states_total', { from: 'remembered' })).toBe(2);
    expect(moved('ingestion_decision_states_total', { from: 'packed' })).toBe(0);
    expect(after.value('ingestion_decision_states_remembered', { tier: 'live' })).toBeGreaterThan(
      0,
    );
    expect(after.has('ingestion_decision_states_remembered', { tier: 'packed' })).toBe(true);

    // the projector: leading, moved, timed
    expect(moved('projector_projected_events_total')).toBeGreaterThanOrEqual(3);
    expect(moved('projector_batch_duration_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(after.value('projector_batch_duration_seconds_sum')).toBeGreaterThan(0);
    await waitFor('the projector to count its position', async () => {
      const s = await scrape();
      return s.value('projector_position') >= 3 && s.value('projector_lag_events') === 0;
    });
    const settled = await scrape();
    expect(
      settled.value('projector_state', { state: 'caught-up' }) +
        settled.value('projector_state', { state: 'running' }),
    ).toBe(1);

    // the pools: the write pool served ingestion, the read pool the queries
    expect(after.value('db_pool_connections', { pool: 'write' })).toBeGreaterThanOrEqual(1);
    expect(after.value('db_pool_connections', { pool: 'read' })).toBeGreaterThanOrEqual(1);
    expect(after.value('db_pool_waiting_clients', { pool: 'read' })).toBe(0);

    // the process
    expect(moved('process_cpu_seconds_total')).toBeGreaterThan(0);
  });

  it('is per application: a second application in the same process counts only its own', async () => {
    const other = await startTestApp();
    try {
      const mine = await scrape();
      const theirs = await scrape(other);
      expect(mine.value('ingestion_events_total')).toBeGreaterThan(0);
      expect(theirs.value('ingestion_events_total')).toBe(0);
      expect(theirs.has('http_request_duration_seconds_count', { route: '/v1/events' })).toBe(
        false,
      );
      expect(theirs.value('projector_state', { state: 'disabled' })).toBe(1);
      expect(theirs.has('projector_position')).toBe(false);
    } finally {
      await other.close();
    }
  });
});

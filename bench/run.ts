/**
 * `npm run bench -- --scale small|medium|large [--growth] [--skip a,b] [--only a,b]
 *   [--command-seconds N] [--kafka-events N] [--http-seconds N] …`
 *
 * One run, one PostgreSQL (embedded in a temporary directory, or BENCH_DATABASE_URL):
 *   copy       raw COPY of the whole feed into `events` of database `bench_store` (the write
 *              limit); `bench_store` is kept: it is the store of read, projector and queries
 *              (filled by the same COPY, untimed, when `copy` is skipped but they are not)
 *   command    RecordEventsHandler called directly, batches of 1,000, into `bench_cmd`
 *              (dropped afterwards); time-boxed by --command-seconds (default: none at small
 *              and medium, 900 s at large): the events handled within the time box
 *   http       POST /v1/events, batches of 500, 4 in flight, against the service (child
 *              process); time-boxed by --http-seconds
 *   kafka      the service's consumer role reading a topic filled beforehand (if the role
 *              exists); --kafka-events N: only the first N events of the feed (default: all at
 *              small and medium, 2,000,000 at large)
 *   naive      one TypeORM save() per event in its own transaction (time-boxed sample)
 *   read       raw sequential read of `events` of `bench_store` with a cursor (the read limit)
 *   projector  ComplianceProjector.step on `bench_store` from zero until caught up
 *   queries    autocannon p50/p95/p99 of the read endpoints (units, unit compliance,
 *              violations, contract, overview, trends, regions), today and historical; the
 *              upcoming deadlines; the SME disclosure and payment performance
 *   dashboard  time to a rendered overview in Chromium (5 cold loads) against the same
 *              service and store (said loudly and skipped when Chromium is missing)
 * and the service's peak RSS (VmHWM of the child processes). The printed table and
 * `details.notes` say which measures are time-boxed or sampled. Writes
 * bench/results/<ts>.json. See docs/benchmarks.md.
 */
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseViolations, type GeneratorInput } from './generator';
import {
  commandPath,
  httpPath,
  naivePath,
  produceAll,
  rawCopy,
  waitForStored,
  type Throughput,
} from './lib/ingest';
import { cpuText } from './lib/cpu';
import { checkpoint, migrate, sql, startCluster } from './lib/pg';
import { measureLatency, queryTargets, sampleIds, type LatencyResult } from './lib/queries';
import { decisionStatesNote } from './lib/handler';
import { projectorCatchUp, projectorCatchUpWithSubscriptions, rawRead } from './lib/read';
import {
  fmt,
  machine,
  parseArgs,
  sourceVersion,
  table,
  timestamp,
  writeResults,
} from './lib/report';
import { startService, tokenFor, type ServiceProcess } from './lib/service';
import { runGrowth } from './lib/growth';
import { timeOverview, type OverviewTiming } from './lib/dashboard';
import { CHROMIUM_PATH, ensureDashboardBuilt } from '@app/testing';

const ROOT = path.resolve(__dirname, '..');

/** Whether Chromium is there for the dashboard phase (said loudly when it is not). */
function dashboardReady(log: (m: string) => void): boolean {
  if (existsSync(CHROMIUM_PATH)) return true;
  log(`dashboard phase: NOT MEASURED, no Chromium at ${CHROMIUM_PATH} (apt-get install chromium)`);
  return false;
}
const PHASES = [
  'copy',
  'command',
  'http',
  'kafka',
  'naive',
  'read',
  'projector',
  'queries',
  'dashboard',
] as const;
type Phase = (typeof PHASES)[number];

/** Per scale; `commandSeconds` / `kafkaEvents` null = the whole feed (no time box, no cut). */
export const SCALES = {
  small: {
    contracts: 20_000,
    querySeconds: 5,
    naiveSeconds: 20,
    httpSeconds: 180,
    commandSeconds: null,
    kafkaEvents: null,
  },
  medium: {
    contracts: 200_000,
    querySeconds: 10,
    naiveSeconds: 30,
    httpSeconds: 300,
    commandSeconds: null,
    kafkaEvents: null,
  },
  large: {
    contracts: 1_000_000,
    querySeconds: 10,
    naiveSeconds: 30,
    httpSeconds: 600,
    commandSeconds: 900,
    kafkaEvents: 2_000_000,
  },
} as const;
type Scale = keyof typeof SCALES;

const log = (m: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${m}`);

/** `--name N` as a limit: absent = the scale's default, 0 = none (null), else a positive number. */
function limitArg(
  args: Record<string, string | boolean>,
  name: string,
  fallback: number | null,
): number | null {
  const v = args[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (typeof v !== 'string' || !Number.isFinite(n) || n < 0)
    throw new Error(`--${name} must be a number ≥ 0 (0 = no limit)`);
  return n === 0 ? null : n;
}

function kafkaConsumerPresent(): boolean {
  const dir = path.join(ROOT, 'apps/monitor/src/kafka');
  if (!existsSync(dir)) return false;
  return /KafkaModule/.test(
    readFileSync(path.join(ROOT, 'apps/monitor/src/app.module.ts'), 'utf8'),
  );
}

/** Brokers from BENCH_KAFKA_BROKERS / KAFKA_BROKERS, else the local broker (infra/kafka). */
function kafkaBrokers(): { brokers: string[]; started: boolean } | { error: string } {
  const env = process.env.BENCH_KAFKA_BROKERS || process.env.KAFKA_BROKERS;
  if (env) return { brokers: env.split(',').map((s) => s.trim()), started: false };
  const script = path.join(ROOT, 'infra/kafka/local-kafka.sh');
  let running = false;
  try {
    execFileSync('bash', [script, 'status'], { stdio: 'ignore' });
    running = true;
  } catch {
    running = false;
  }
  if (!running) {
    try {
      log('starting the local Kafka broker (infra/kafka/local-kafka.sh start)');
      execFileSync('bash', [script, 'start'], {
        stdio: ['ignore', 'ignore', 'inherit'],
        timeout: 300_000,
      });
    } catch (err) {
      return {
        error: `local Kafka broker did not start: ${(err as Error).message.split('\n')[0]}`,
      };
    }
  }
  return { brokers: ['127.0.0.1:9092'], started: !running };
}

/** Waits (up to 10 min) until no other query runs on the database. */
async function waitForIdle(url: string, say: (m: string) => void): Promise<void> {
  const started = Date.now();
  let told = false;
  for (;;) {
    const [{ n }] = await sql<{ n: number }>(
      url,
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid()
          AND backend_type = 'client backend'`,
    );
    if (n === 0 || Date.now() - started > 600_000) return;
    if (!told) {
      say(`  waiting for ${n} abandoned queries to finish`);
      told = true;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const scale = String(args.scale ?? 'small') as Scale;
  if (!(scale in SCALES))
    throw new Error(`--scale must be one of ${Object.keys(SCALES).join(', ')}`);
  const cfg = SCALES[scale];
  const contracts = args.contracts ? Number(args.contracts) : cfg.contracts;
  const gen: GeneratorInput = {
    contracts,
    ...(args.seed ? { seed: Number(args.seed) } : {}),
    ...(typeof args.violations === 'string'
      ? { violations: parseViolations(args.violations) }
      : {}),
  };
  const only = typeof args.only === 'string' ? args.only.split(',') : null;
  const skip = typeof args.skip === 'string' ? args.skip.split(',') : [];
  for (const p of [...(only ?? []), ...skip])
    if (!(PHASES as readonly string[]).includes(p))
      throw new Error(`unknown phase "${p}" (${PHASES.join(', ')})`);
  const on = (p: Phase) => (only ? only.includes(p) : !skip.includes(p));
  const querySeconds = args['query-seconds'] ? Number(args['query-seconds']) : cfg.querySeconds;
  const projectorBatch = args['projector-batch'] ? Number(args['projector-batch']) : 5000;
  const historical = typeof args['as-of'] === 'string' ? args['as-of'] : '2022-06-30';
  const commandSeconds = limitArg(args, 'command-seconds', cfg.commandSeconds);
  const kafkaEvents = limitArg(args, 'kafka-events', cfg.kafkaEvents);
  const httpSeconds = limitArg(args, 'http-seconds', cfg.httpSeconds);

  const m = machine();
  const source = sourceVersion();
  const cluster = await startCluster(log);
  Object.assign(m, { pg: cluster.version, pgSettings: cluster.settings, pgSource: cluster.kind });
  log(
    `scale ${scale}: ${fmt(contracts)} contracts; PostgreSQL ${cluster.version} (${cluster.kind}); ${m.cpus} CPUs, ${m.memoryGb} GB, node ${m.node}`,
  );

  if (args.growth) {
    try {
      await runGrowth(cluster, log, args);
    } finally {
      await cluster.stop();
    }
    return;
  }

  const results: Record<string, Throughput | null> = {};
  /** full notes per measure (details.notes): time boxes, samples, why not measured */
  const notes: Record<string, string> = {};
  /** short form for the printed table: which part of the feed a measure covers */
  const scope: Record<string, string> = {};
  const latency: Record<string, LatencyResult> = {};
  const rss: Record<string, number> = {};
  let dashboard: OverviewTiming | null = null;
  /** the store of read, projector and queries: `bench_store`, filled by COPY */
  let storeUrl: string | null = null;
  let storeEvents: number | null = null;
  const services: ServiceProcess[] = [];
  const needStore = on('read') || on('projector') || on('queries') || on('dashboard');

  const fresh = async (name: string) => {
    const url = await cluster.createDatabase(name);
    await migrate(url);
    await checkpoint(url);
    return url;
  };
  const drop = async (name: string) => {
    await sql(cluster.adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  };
  const show = (name: string, t: Throughput) => {
    let extra = t.rejected ? `, ${t.rejected} rejected ${JSON.stringify(t.codes)}` : '';
    if (t.failedRequests)
      extra += `; failed requests (retried): ${JSON.stringify(t.failedRequests)}`;
    if (t.decisionStates) extra += `; ${decisionStatesNote(t.decisionStates)}`;
    log(
      `${name}: ${fmt(t.events)} events in ${fmt(t.seconds, 1)} s = ${fmt(t.eventsPerSec)} events/s${extra}${cpuText(t.cpu)}`,
    );
  };

  // BENCH_REUSE_STORE=1 (with BENCH_KEEP_DATABASES=1 on an earlier run of the same scale): the
  // store's events are kept, migrated to this version and projected again from zero;
  // BENCH_REUSE_STORE=read-models keeps its read models too (projected by the code of that
  // run). For profiling the read side, never for the copy measure.
  const reuse = process.env.BENCH_REUSE_STORE;
  const reused =
    (reuse === '1' || reuse === 'read-models') && needStore && !on('copy')
      ? await cluster.existingDatabase('bench_store')
      : null;

  try {
    if (reused) {
      storeUrl = reused;
      await migrate(storeUrl);
      if (reuse === '1') {
        await sql(
          storeUrl,
          `TRUNCATE rm.obligations, rm.invoices, rm.payments, rm.allocations, rm.contracts, rm.unit_rule_counts`,
        );
        await sql(storeUrl, 'DELETE FROM projection_checkpoints');
      }
      const [{ n }] = await sql<{ n: string }>(storeUrl, 'SELECT count(*)::text AS n FROM events');
      storeEvents = Number(n);
      log(
        `bench_store reused (BENCH_REUSE_STORE=${reuse}): ${fmt(storeEvents)} events, read models ${reuse === '1' ? 'emptied' : 'kept'}`,
      );
      await sql(storeUrl, 'VACUUM (ANALYZE)');
    } else if (on('copy') || needStore) {
      log(
        on('copy')
          ? 'raw COPY into bench_store …'
          : 'filling bench_store by COPY (untimed: the copy phase is off) …',
      );
      storeUrl = await fresh('bench_store');
      const filled = await rawCopy(storeUrl, gen);
      storeEvents = filled.events;
      if (on('copy')) {
        results.rawCopy = filled;
        scope.rawCopy = 'whole feed';
        show('raw COPY', filled);
      } else {
        log(`bench_store: ${fmt(filled.events)} events`);
      }
      if (needStore) {
        // VACUUM as well: otherwise autovacuum's insert-triggered VACUUM of the fresh table
        // would run during the next measures
        await sql(storeUrl, 'VACUUM (ANALYZE)');
      } else {
        await drop('bench_store');
        storeUrl = null;
      }
    }
    if (on('command')) {
      log(
        `command path (RecordEventsHandler, batches of 1,000${commandSeconds === null ? '' : `, time box ${commandSeconds} s`}) …`,
      );
      const url = await fresh('bench_cmd');
      results.command = await commandPath(url, gen, {
        batchSize: 1000,
        ...(commandSeconds === null ? {} : { maxSeconds: commandSeconds }),
      });
      if (results.command.note) {
        notes.command = `${results.command.note} (--command-seconds)`;
        scope.command = `time-boxed ${fmt(commandSeconds)} s`;
      } else scope.command = 'whole feed';
      show('command', results.command);
      await drop('bench_cmd');
    }
    if (on('http')) {
      log('HTTP path (POST /v1/events, batches of 500, 4 in flight, service as a child process) …');
      const url = await fresh('bench_http');
      const svc = await startService(
        { DATABASE_URL: url, ROLE_PROJECTOR: 'false', ROLE_CONSUMER: 'false' },
        log,
      );
      services.push(svc);
      try {
        const concurrency = args['http-concurrency'] ? Number(args['http-concurrency']) : 4;
        results.http = await httpPath(svc.url, await tokenFor('platform'), gen, {
          batchSize: 500,
          concurrency,
          servicePid: svc.pid,
          ...(httpSeconds === null ? {} : { maxSeconds: httpSeconds }),
        });
        if (results.http.note) {
          notes.http = `${results.http.note} (--http-seconds)`;
          scope.http = `time-boxed ${fmt(httpSeconds)} s`;
        } else scope.http = 'whole feed';
        show('HTTP', results.http);
      } finally {
        await svc.stop();
        rss.httpIngestion = svc.peakRssMb();
      }
      await drop('bench_http');
    }
    if (on('kafka')) {
      if (!kafkaConsumerPresent()) {
        results.kafka = null;
        notes.kafka = 'not measured: consumer not present';
        log(`Kafka: ${notes.kafka}`);
      } else {
        const b = kafkaBrokers();
        if ('error' in b) {
          results.kafka = null;
          notes.kafka = `not measured: ${b.error}`;
          log(`Kafka: ${notes.kafka}`);
        } else {
          const url = await fresh('bench_kafka');
          const run = timestamp().toLowerCase();
          const topic = `bench.events.${run}`;
          log(
            `Kafka: producing ${kafkaEvents === null ? 'the feed' : `the first ${fmt(kafkaEvents)} events of the feed`} to ${topic} (6 partitions, key = contractId) …`,
          );
          const produced = await produceAll(
            b.brokers,
            topic,
            6,
            kafkaEvents === null ? gen : { ...gen, maxEvents: kafkaEvents },
          );
          // fewer than the limit: the feed ran out first, so this is the whole feed
          const sampled = kafkaEvents !== null && produced.events >= kafkaEvents;
          log(
            `Kafka: produced ${fmt(produced.events)} events in ${fmt(produced.seconds, 1)} s; starting the consumer`,
          );
          await checkpoint(url);
          const svc = await startService(
            {
              DATABASE_URL: url,
              ROLE_PROJECTOR: 'false',
              KAFKA_BROKERS: b.brokers.join(','),
              KAFKA_TOPIC: topic,
              KAFKA_DLQ_TOPIC: `${topic}.dlq`,
              KAFKA_GROUP_ID: `bench-${run}`,
              KAFKA_PARTITIONS: '6',
            },
            log,
          );
          services.push(svc);
          try {
            results.kafka = await waitForStored(url, produced.events, {
              timeoutMs: 3_600_000,
              log,
              servicePid: svc.pid,
            });
            if (sampled) {
              results.kafka.note = `sampled: the first ${produced.events} events of the feed produced and consumed (--kafka-events); rate ${results.kafka.note}`;
              notes.kafka = results.kafka.note;
              scope.kafka = `first ${fmt(produced.events)} events`;
            } else scope.kafka = 'whole feed';
            show('Kafka', results.kafka);
          } finally {
            await svc.stop();
            rss.kafkaIngestion = svc.peakRssMb();
          }
          await drop('bench_kafka');
        }
      }
    }
    if (on('naive')) {
      log(`naive baseline (TypeORM save() per event, ${cfg.naiveSeconds} s sample) …`);
      const url = await cluster.createDatabase('bench_naive');
      results.naive = await naivePath(url, gen, { maxSeconds: cfg.naiveSeconds });
      notes.naive = results.naive.note ?? 'sample';
      scope.naive = `sample, ${cfg.naiveSeconds} s`;
      show('naive', results.naive);
      await drop('bench_naive');
    }
    if (storeUrl) {
      await checkpoint(storeUrl);
      if (on('read')) {
        log('raw sequential read of events in bench_store (cursor) …');
        results.rawRead = await rawRead(storeUrl);
        scope.rawRead = 'whole feed';
        show('raw read', results.rawRead);
      }
      if (on('projector') || on('queries')) {
        log(`projector catch-up from zero on bench_store (step ${projectorBatch}) …`);
        const pr = await projectorCatchUp(storeUrl, projectorBatch);
        if (on('projector')) {
          results.projector = pr;
          scope.projector = 'whole feed';
          show('projector', pr);
          log('projector catch-up again, with webhook subscriptions (notifications decided) …');
          const pn = await projectorCatchUpWithSubscriptions(storeUrl, projectorBatch);
          results.projectorNotify = pn;
          scope.projectorNotify = 'whole feed';
          show('projector + notifications', pn);
          log(
            `notifications decided during catch-up: ${fmt(pn.decided)} (${fmt(pn.decidedPerSec)}/s); ` +
              `projector ${fmt(pn.eventsPerSec)} events/s with subscriptions vs ${fmt(pr.eventsPerSec)} without ` +
              `(${fmt((1 - pn.eventsPerSec / pr.eventsPerSec) * 100, 1)} % slower)`,
          );
        }
        await sql(storeUrl, 'ANALYZE');
      }
      if (on('queries') || on('dashboard')) {
        // the dashboard's assets must exist when the service starts (it serves them if built)
        const browser = on('dashboard') ? dashboardReady(log) : null;
        if (on('dashboard') && browser) ensureDashboardBuilt(ROOT);
        const svc = await startService({ DATABASE_URL: storeUrl }, log);
        services.push(svc);
        try {
          if (on('queries')) {
            const token = await tokenFor('inspector');
            const ids = await sampleIds(storeUrl);
            for (const target of queryTargets(ids, historical)) {
              // requests abandoned by autocannon's timeout keep running in PostgreSQL: wait for
              // them, so that one endpoint's backlog is not measured as the next one's latency
              await waitForIdle(storeUrl, log);
              // one short warm-up pass, then the measured run
              await measureLatency(svc.url, token, target, { connections: 16, seconds: 1 });
              const r = await measureLatency(svc.url, token, target, {
                connections: 16,
                seconds: querySeconds,
              });
              latency[target.name] = r;
              log(
                `${target.name}: p50 ${fmt(r.p50Ms, 1)} ms, p95 ${fmt(r.p95Ms, 1)} ms, p99 ${fmt(r.p99Ms, 1)} ms, ${fmt(r.rps)} req/s${r.non2xx ? `, ${r.non2xx} non-2xx` : ''}${r.errors ? `, ${r.errors} errors/timeouts (10 s)` : ''}`,
              );
            }
          }
          if (on('dashboard')) {
            if (!browser) notes.dashboard = `not measured: no Chromium at ${CHROMIUM_PATH}`;
            else {
              log('dashboard: time to a rendered overview (Chromium, 5 cold loads) …');
              dashboard = await timeOverview(svc.url, await tokenFor('inspector'));
              log(
                `dashboard: overview rendered in ${dashboard.ms.join(', ')} ms (median ${dashboard.medianMs}); ${dashboard.jsFiles} JS files, ${fmt(dashboard.jsGzipBytes / 1024, 1)} KiB gzip`,
              );
            }
          }
        } finally {
          await svc.stop();
          rss.queries = svc.peakRssMb();
        }
      }
    }
  } finally {
    for (const s of services) await s.stop().catch(() => undefined);
    await cluster.stop();
  }

  const rate = (k: string) => results[k]?.eventsPerSec ?? null;
  // A measure over part of the feed (time-boxed, sampled) is compared with COPY's rate over
  // the same first events (the first COPY chunks covering them): rates fall as the store grows.
  const basis = (a: string, b: string): { rate: number; events: number } | null => {
    const base = results[b];
    if (!base) return null;
    const n = results[a]?.events ?? 0;
    if (b === 'rawCopy' && base.progress && n < base.events) {
      const at = base.progress.find(([e]) => e >= n);
      if (at) return { rate: at[0] / at[1], events: at[0] };
    }
    return { rate: base.eventsPerSec, events: base.events };
  };
  const ratio = (a: string, b: string) => {
    const r = rate(a);
    const x = basis(a, b);
    return r !== null && x ? r / x.rate : null;
  };
  const ratioLabel = (a: string, b: string, name: string) => {
    const x = basis(a, b);
    const r = ratio(a, b);
    if (r === null || !x) return '—';
    const part = results[b] && x.events < results[b].events ? ` (first ${fmt(x.events)})` : '';
    return `${fmt(r * 100)} % of ${name}${part}`;
  };
  const peakRssMb = Object.values(rss).length ? Math.max(...Object.values(rss)) : null;
  const queryP95Ms: Record<string, number> = {};
  for (const [k, v] of Object.entries(latency)) queryP95Ms[k] = v.p95Ms;

  const rows: string[][] = [];
  const add = (label: string, k: string, vs?: [string, string]) => {
    const t = results[k];
    if (t === undefined) return;
    rows.push([
      label,
      t ? fmt(t.events) : '—',
      t ? fmt(t.seconds, 1) : '—',
      t ? fmt(t.eventsPerSec) : (notes[k] ?? '—'),
      vs ? ratioLabel(k, vs[0], vs[1]) : '',
      scope[k] ?? '—',
      t?.cpu ? `${t.cpu.nodeUs} · ${t.cpu.postgresUs}` : '—',
    ]);
  };
  add('raw COPY (write limit)', 'rawCopy');
  add('command path', 'command', ['rawCopy', 'COPY']);
  add('HTTP POST /v1/events', 'http', ['rawCopy', 'COPY']);
  add('Kafka consumer', 'kafka', ['rawCopy', 'COPY']);
  add('naive TypeORM save()', 'naive', ['rawCopy', 'COPY']);
  add('raw read (read limit)', 'rawRead');
  add('projector catch-up', 'projector', ['rawRead', 'raw read']);
  add('projector + notifications', 'projectorNotify', ['projector', 'projector']);
  console.log(
    '\n' +
      table(
        [
          'measure',
          'events',
          'seconds',
          'events/s',
          'ratio',
          'part of the feed',
          'CPU µs/event: Node · PostgreSQL',
        ],
        rows,
      ),
  );
  const limited = ['command', 'http', 'kafka', 'naive'].filter((k) => results[k] && notes[k]);
  if (limited.length)
    console.log(
      `\ntime-boxed or sampled (rates over part of the feed, into a smaller store):\n${limited.map((k) => `  ${k}: ${notes[k]}`).join('\n')}`,
    );
  if (Object.keys(latency).length) {
    console.log(
      '\n' +
        table(
          ['endpoint', 'requests', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'non-2xx', 'timeouts'],
          Object.entries(latency).map(([k, r]) => [
            k,
            fmt(r.requests),
            fmt(r.rps),
            fmt(r.p50Ms, 1),
            fmt(r.p95Ms, 1),
            fmt(r.p99Ms, 1),
            fmt(r.non2xx),
            fmt(r.errors),
          ]),
        ),
    );
  }

  const targets: Array<[string, boolean | null, string]> = [];
  const check = (name: string, value: number | null, ok: (v: number) => boolean, shown: string) =>
    targets.push([name, value === null ? null : ok(value), shown]);
  const pct = (v: number | null) => (v === null ? 'not measured' : `${fmt(v * 100)} %`);
  check(
    'command ≥ 60 % of raw COPY',
    ratio('command', 'rawCopy'),
    (v) => v >= 0.6,
    pct(ratio('command', 'rawCopy')),
  );
  check(
    'HTTP ≥ 40 % of raw COPY',
    ratio('http', 'rawCopy'),
    (v) => v >= 0.4,
    pct(ratio('http', 'rawCopy')),
  );
  check(
    'Kafka ≥ 50 % of raw COPY',
    ratio('kafka', 'rawCopy'),
    (v) => v >= 0.5,
    results.kafka === null ? notes.kafka : pct(ratio('kafka', 'rawCopy')),
  );
  check(
    'command ≥ 20× naive',
    ratio('command', 'naive'),
    (v) => v >= 20,
    ratio('command', 'naive') === null ? 'not measured' : `${fmt(ratio('command', 'naive'), 1)}×`,
  );
  check(
    'projector ≥ 50 % of raw read',
    ratio('projector', 'rawRead'),
    (v) => v >= 0.5,
    pct(ratio('projector', 'rawRead')),
  );
  // an endpoint that answered nothing within autocannon's 10 s timeout counts as 10 s
  const p95 = (re: RegExp) => {
    const xs = Object.entries(latency)
      .filter(([k]) => re.test(k))
      .map(([, r]) => (r.requests === 0 ? 10_000 : r.p95Ms));
    return xs.length ? Math.max(...xs) : null;
  };
  // issue #16's "today" target: the ranking, unit compliance, violations and the contract;
  // the overview's APIs and the deadlines are in the table, not in this target
  const today = p95(
    /^GET \/v1\/(units|units\/\{code\}\/compliance|violations|contracts\/\{id\}) \(today\)/,
  );
  const hist = p95(/\(\d{4}-\d{2}-\d{2}\)/);
  check(
    `"today" p95 < 50 ms (worst of ranking, unit compliance, violations, contract${scale === 'large' ? '' : `; target is for large, this is ${scale}`})`,
    today,
    (v) => v < 50,
    today === null ? 'not measured' : `${fmt(today, 1)} ms`,
  );
  check(
    `historical queries p95 < 1 s (worst endpoint${scale === 'large' ? '' : `; ${scale}`})`,
    hist,
    (v) => v < 1000,
    hist === null ? 'not measured' : `${fmt(hist, 1)} ms`,
  );
  check(
    'service RSS < 512 MB',
    peakRssMb,
    (v) => v < 512,
    peakRssMb === null ? 'not measured' : `${fmt(peakRssMb)} MB`,
  );
  console.log(
    '\n' +
      table(
        ['target', 'measured', 'met'],
        targets.map(([n, ok, v]) => [n, v, ok === null ? '—' : ok ? 'yes' : 'NO']),
      ),
  );

  const file = writeResults(timestamp(), {
    scale,
    contracts,
    // the feed: what bench_store holds, else what an uncut command path handled
    events: storeEvents ?? (results.command && !notes.command ? results.command.events : null),
    rawCopyEventsPerSec: rate('rawCopy'),
    commandEventsPerSec: rate('command'),
    httpEventsPerSec: rate('http'),
    kafkaEventsPerSec: rate('kafka'),
    naiveEventsPerSec: rate('naive'),
    rawReadEventsPerSec: rate('rawRead'),
    projectorEventsPerSec: rate('projector'),
    projectorWithSubscriptionsEventsPerSec: rate('projectorNotify'),
    notificationsDecidedPerSec:
      (results.projectorNotify as { decidedPerSec?: number } | undefined)?.decidedPerSec ?? null,
    queryP95Ms,
    overviewRenderedMedianMs: dashboard?.medianMs ?? null,
    peakRssMb,
    ratios: {
      commandToRawCopy: ratio('command', 'rawCopy'),
      httpToRawCopy: ratio('http', 'rawCopy'),
      kafkaToRawCopy: ratio('kafka', 'rawCopy'),
      commandToNaive: ratio('command', 'naive'),
      projectorToRawRead: ratio('projector', 'rawRead'),
    },
    targets: targets.map(([name, met, measured]) => ({ name, measured, met })),
    details: {
      throughput: results,
      latency,
      dashboard,
      rssMb: rss,
      notes,
      limits: {
        commandSeconds,
        httpSeconds,
        kafkaEvents,
        naiveSeconds: cfg.naiveSeconds,
      },
      store:
        storeEvents === null
          ? null
          : {
              database: 'bench_store',
              events: storeEvents,
              filledBy: on('copy') ? 'the copy phase' : 'COPY, untimed (copy phase off)',
            },
      generator: gen,
      projectorBatch,
      historicalAsOf: historical,
    },
    machine: m,
    source,
    finishedAt: new Date().toISOString(),
  });
  log(`results written to ${path.relative(process.cwd(), file)}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);

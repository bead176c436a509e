/**
 * `npm run bench -- --scale small|medium|large [--growth] [--skip a,b] [--only a,b]`
 *
 * One run, one PostgreSQL (embedded in a temporary directory, or BENCH_DATABASE_URL):
 *   copy       raw COPY of the feed into `events` (the write limit)
 *   command    RecordEventsHandler called directly, batches of 1,000
 *   http       POST /v1/events, batches of 500, 4 in flight, against the service (child process)
 *   kafka      the service's consumer role reading a topic filled beforehand (if the role exists)
 *   naive      one TypeORM save() per event in its own transaction (time-boxed sample)
 *   read       raw sequential read of `events` with a cursor (the read limit)
 *   projector  ComplianceProjector.runBatch from zero until caught up
 *   queries    autocannon p50/p95/p99 of the four read endpoints, today and historical
 * and the service's peak RSS (VmHWM of the child processes). Writes bench/results/<ts>.json.
 * See docs/benchmarks.md.
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
import { checkpoint, migrate, sql, startCluster } from './lib/pg';
import { measureLatency, queryTargets, sampleIds, type LatencyResult } from './lib/queries';
import { projectorCatchUp, rawRead } from './lib/read';
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

const ROOT = path.resolve(__dirname, '..');
const PHASES = [
  'copy',
  'command',
  'http',
  'kafka',
  'naive',
  'read',
  'projector',
  'queries',
] as const;
type Phase = (typeof PHASES)[number];

export const SCALES = {
  small: { contracts: 20_000, querySeconds: 5, naiveSeconds: 20, httpSeconds: 180 },
  medium: { contracts: 200_000, querySeconds: 10, naiveSeconds: 30, httpSeconds: 300 },
  large: { contracts: 1_000_000, querySeconds: 10, naiveSeconds: 30, httpSeconds: 600 },
} as const;
type Scale = keyof typeof SCALES;

const log = (m: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${m}`);

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
  const notes: Record<string, string> = {};
  const latency: Record<string, LatencyResult> = {};
  const rss: Record<string, number> = {};
  let cmdUrl: string | null = null;
  const services: ServiceProcess[] = [];

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
    log(
      `${name}: ${fmt(t.events)} events in ${fmt(t.seconds, 1)} s = ${fmt(t.eventsPerSec)} events/s${extra}`,
    );
  };

  try {
    if (on('copy')) {
      log('raw COPY …');
      const url = await fresh('bench_copy');
      results.rawCopy = await rawCopy(url, gen);
      show('raw COPY', results.rawCopy);
      await drop('bench_copy');
    }
    if (on('command') || on('read') || on('projector') || on('queries')) {
      log('command path (RecordEventsHandler, batches of 1,000) …');
      cmdUrl = await fresh('bench_cmd');
      results.command = await commandPath(cmdUrl, gen, { batchSize: 1000 });
      show('command', results.command);
      await sql(cmdUrl, 'ANALYZE');
      if (!on('command')) delete results.command;
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
        const maxSeconds = args['http-seconds'] ? Number(args['http-seconds']) : cfg.httpSeconds;
        const concurrency = args['http-concurrency'] ? Number(args['http-concurrency']) : 4;
        results.http = await httpPath(svc.url, await tokenFor('platform'), gen, {
          batchSize: 500,
          concurrency,
          maxSeconds,
        });
        if (results.http.note) notes.http = results.http.note;
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
          log(`Kafka: producing the feed to ${topic} (6 partitions, key = contractId) …`);
          const produced = await produceAll(b.brokers, topic, 6, gen);
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
            });
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
      show('naive', results.naive);
      await drop('bench_naive');
    }
    if (cmdUrl && (on('read') || on('projector') || on('queries'))) {
      await checkpoint(cmdUrl);
      if (on('read')) {
        log('raw sequential read of events (cursor) …');
        results.rawRead = await rawRead(cmdUrl);
        show('raw read', results.rawRead);
      }
      log(`projector catch-up from zero (runBatch ${projectorBatch}) …`);
      const pr = await projectorCatchUp(cmdUrl, projectorBatch);
      if (on('projector')) {
        results.projector = pr;
        show('projector', pr);
      }
      await sql(cmdUrl, 'ANALYZE');
      if (on('queries')) {
        const svc = await startService({ DATABASE_URL: cmdUrl }, log);
        services.push(svc);
        try {
          const token = await tokenFor('inspector');
          const ids = await sampleIds(cmdUrl);
          for (const target of queryTargets(ids, historical)) {
            // requests abandoned by autocannon's timeout keep running in PostgreSQL: wait for
            // them, so that one endpoint's backlog is not measured as the next one's latency
            await waitForIdle(cmdUrl, log);
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
  const ratio = (a: string, b: string) =>
    rate(a) !== null && rate(b) ? rate(a)! / rate(b)! : null;
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
      vs ? (ratio(k, vs[0]) === null ? '—' : `${fmt(ratio(k, vs[0])! * 100)} % of ${vs[1]}`) : '',
    ]);
  };
  add('raw COPY (write limit)', 'rawCopy');
  add('command path', 'command', ['rawCopy', 'COPY']);
  add('HTTP POST /v1/events', 'http', ['rawCopy', 'COPY']);
  add('Kafka consumer', 'kafka', ['rawCopy', 'COPY']);
  add('naive TypeORM save()', 'naive', ['rawCopy', 'COPY']);
  add('raw read (read limit)', 'rawRead');
  add('projector catch-up', 'projector', ['rawRead', 'raw read']);
  console.log('\n' + table(['measure', 'events', 'seconds', 'events/s', 'ratio'], rows));
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
  const today = p95(/\(today\)/);
  const hist = p95(/\(\d{4}-\d{2}-\d{2}\)/);
  check(
    `"today" queries p95 < 50 ms (worst endpoint${scale === 'large' ? '' : `; target is for large, this is ${scale}`})`,
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
    events: results.command?.events ?? results.rawCopy?.events ?? null,
    rawCopyEventsPerSec: rate('rawCopy'),
    commandEventsPerSec: rate('command'),
    httpEventsPerSec: rate('http'),
    kafkaEventsPerSec: rate('kafka'),
    naiveEventsPerSec: rate('naive'),
    rawReadEventsPerSec: rate('rawRead'),
    projectorEventsPerSec: rate('projector'),
    queryP95Ms,
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
      rssMb: rss,
      notes,
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

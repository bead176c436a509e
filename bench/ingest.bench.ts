/**
 * `npm run bench:ingest [-- --events 200000] [--only copy,command,http]`
 *
 * 200,000 generated events, one run, one PostgreSQL: raw COPY into a freshly migrated
 * `events` table (the limit), the command path (RecordEventsHandler constructed directly,
 * batches of 1,000) and POST /v1/events (createApp in this process on a fresh database,
 * listening on loopback, batches of 500, 4 requests in flight). Prints events/s and the
 * ratios to raw COPY (targets: command ≥ 60 %, HTTP ≥ 40 %). For a CPU profile of one path:
 * `node --cpu-prof -r @swc-node/register bench/ingest.bench.ts --only command`.
 */
import 'reflect-metadata';
import { loadConfig } from '@app/platform';
import { createApp } from '../apps/monitor/src/bootstrap';
import type { GeneratorInput } from './generator';
import { commandPath, httpPath, rawCopy, type Throughput } from './lib/ingest';
import { checkpoint, migrate, startCluster } from './lib/pg';
import {
  fmt,
  machine,
  parseArgs,
  sourceVersion,
  table,
  timestamp,
  writeResults,
} from './lib/report';
import { benchServiceEnv, tokenFor } from './lib/service';

const log = (m: string) =>
  console.log(`[bench:ingest ${new Date().toISOString().slice(11, 19)}] ${m}`);

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const events = Number(args.events ?? 200_000);
  const only = typeof args.only === 'string' ? args.only.split(',') : ['copy', 'command', 'http'];
  // ~10.3 events per contract: enough contracts, then the first `events` of the feed
  const gen: GeneratorInput = { contracts: Math.ceil(events / 9), maxEvents: events };
  const cluster = await startCluster(log);
  const m = { ...machine(), pg: cluster.version, pgSource: cluster.kind };
  log(`${fmt(events)} events; PostgreSQL ${cluster.version}; ${m.cpus} CPUs; node ${m.node}`);
  const r: Record<string, Throughput> = {};
  try {
    const fresh = async (name: string) => {
      const url = await cluster.createDatabase(name);
      await migrate(url);
      await checkpoint(url);
      return url;
    };
    if (only.includes('copy')) {
      r.rawCopy = await rawCopy(await fresh('ingest_copy'), gen);
      log(`raw COPY: ${fmt(r.rawCopy.eventsPerSec)} events/s`);
    }
    if (only.includes('command')) {
      r.command = await commandPath(await fresh('ingest_cmd'), gen, { batchSize: 1000 });
      log(
        `command: ${fmt(r.command.eventsPerSec)} events/s (${r.command.accepted ?? 0} accepted, ${r.command.rejected ?? 0} rejected)`,
      );
    }
    if (only.includes('http')) {
      const url = await fresh('ingest_http');
      const config = loadConfig({
        ...benchServiceEnv(),
        ROLE_PROJECTOR: 'false',
        ROLE_CONSUMER: 'false',
      });
      const app = await createApp({ config, databaseUrl: url });
      await app.listen(0, '127.0.0.1');
      const base = (await app.getUrl())
        .replace('[::1]', '127.0.0.1')
        .replace('localhost', '127.0.0.1');
      try {
        const concurrency = Number(args['http-concurrency'] ?? 4);
        const maxSeconds = Number(args['http-seconds'] ?? 300);
        r.http = await httpPath(base, await tokenFor('platform'), gen, {
          batchSize: 500,
          concurrency,
          maxSeconds,
        });
        if (r.http.note) log(`HTTP: ${r.http.note}`);
        log(
          `HTTP: ${fmt(r.http.eventsPerSec)} events/s (${r.http.accepted ?? 0} accepted, ${r.http.rejected ?? 0} rejected)`,
        );
        if (r.http.failedRequests)
          log(
            `HTTP: requests that failed and were retried: ${JSON.stringify(r.http.failedRequests)}`,
          );
      } finally {
        await app.close();
      }
    }
  } finally {
    await cluster.stop();
  }
  const copy = r.rawCopy?.eventsPerSec;
  const row = (label: string, t: Throughput | undefined, target?: number) => {
    const ratio = t && copy ? t.eventsPerSec / copy : null;
    return [
      label,
      t ? fmt(t.events) : '—',
      t ? fmt(t.seconds, 1) : '—',
      t ? fmt(t.eventsPerSec) : '—',
      ratio === null || t === r.rawCopy ? '' : `${fmt(ratio * 100)} %`,
      target === undefined || ratio === null
        ? ''
        : ratio >= target
          ? `≥ ${target * 100} %: met`
          : `≥ ${target * 100} %: NOT met`,
    ];
  };
  console.log(
    '\n' +
      table(
        ['path', 'events', 'seconds', 'events/s', 'of raw COPY', 'target'],
        [
          row('raw COPY', r.rawCopy),
          row('command (batches of 1,000)', r.command, 0.6),
          row('HTTP (500 × 4 in flight)', r.http, 0.4),
        ],
      ),
  );
  const file = writeResults(`ingest-${timestamp()}`, {
    events,
    rawCopyEventsPerSec: r.rawCopy?.eventsPerSec ?? null,
    commandEventsPerSec: r.command?.eventsPerSec ?? null,
    httpEventsPerSec: r.http?.eventsPerSec ?? null,
    details: r,
    machine: m,
    source: sourceVersion(),
  });
  log(`results written to ${file}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);

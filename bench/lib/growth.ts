import { PgEventStore, type EventSource } from '@app/event-store';
import { RecordEventsCommand } from '../../apps/monitor/src/ingestion/record-events/record-events.command';
import { generateEvents, type Envelope } from '../generator';
import { benchHandler } from './handler';
import { asReceived, copyEvents, eventCopyParts } from './ingest';
import { checkpoint, migrate, pool, sql, type BenchCluster } from './pg';
import { fmt, table, timestamp, writeResults } from './report';

/**
 * `--growth`: the command path's append rate once 1 M events are stored, and again once
 * 10 M are stored (target: within 20 %). One feed, read once: the store is filled by COPY
 * (fast), then a window of the feed goes through
 * RecordEventsHandler (batches of 1,000) and is timed; then COPY again up to 10 M, and the
 * next window is timed the same way.
 */
export async function runGrowth(
  cluster: BenchCluster,
  log: (m: string) => void,
  args: Record<string, string | boolean>,
): Promise<void> {
  const low = Number(args['growth-from'] ?? 1_000_000);
  const high = Number(args['growth-to'] ?? 10_000_000);
  const window = Number(args['growth-window'] ?? 200_000);
  const contracts = Math.ceil((high + 2 * window) / 9.5);
  const url = await cluster.createDatabase('bench_growth');
  await migrate(url);
  const feed = generateEvents({ contracts });
  const take = (n: number): Envelope[] => {
    const out: Envelope[] = [];
    for (let i = 0; i < n; i++) {
      const r = feed.next();
      if (r.done) break;
      out.push(r.value);
    }
    return out;
  };
  const versions = new Map<string, number>();
  const p = pool(url, 10);
  const store = new PgEventStore(p);
  const { handler } = benchHandler(store);
  const source: EventSource = { kind: 'import' };
  let stored = 0;

  const fill = async (upTo: number) => {
    const client = await p.connect();
    const t0 = performance.now();
    try {
      while (stored < upTo) {
        const chunk = take(Math.min(100_000, upTo - stored));
        if (chunk.length === 0) throw new Error('the feed ran out');
        await copyEvents(client, eventCopyParts(chunk, versions));
        stored += chunk.length;
        if (stored % 1_000_000 < chunk.length) log(`  filled ${fmt(stored)} events`);
      }
    } finally {
      client.release();
    }
    // VACUUM as well, as the main bench does after its fill: the freshly copied rows' hint bits
    // and the visibility map are set here, untimed, as autovacuum's insert-triggered vacuum
    // would have set them on a server that runs it (this project's CI machine does not), not
    // by the timed window's first reads of each page
    await sql(url, 'VACUUM (ANALYZE)');
    await checkpoint(url);
    log(`  store at ${fmt(stored)} events (fill took ${fmt((performance.now() - t0) / 1000)} s)`);
  };

  const measure = async (): Promise<{
    storedBefore: number;
    events: number;
    seconds: number;
    eventsPerSec: number;
    rejected: number;
  }> => {
    const before = stored;
    let ms = 0;
    let events = 0;
    let rejected = 0;
    while (events < window) {
      const chunk = take(Math.min(50_000, window - events));
      if (chunk.length === 0) break;
      const items = asReceived(chunk, source);
      const t0 = performance.now();
      for (let i = 0; i < items.length; i += 1000) {
        const outcomes = await handler.execute(new RecordEventsCommand(items.slice(i, i + 1000)));
        rejected += outcomes.filter((o) => o.status === 'rejected').length;
      }
      ms += performance.now() - t0;
      for (const e of chunk) versions.set(e.contractId, (versions.get(e.contractId) ?? 0) + 1);
      events += chunk.length;
      stored += chunk.length;
    }
    const r = {
      storedBefore: before,
      events,
      seconds: ms / 1000,
      eventsPerSec: events / (ms / 1000),
      rejected,
    };
    log(
      `  command path at ${fmt(before)} stored: ${fmt(r.eventsPerSec)} events/s (${fmt(events)} events, ${rejected} rejected)`,
    );
    return r;
  };

  try {
    log(`growth: fill to ${fmt(low)} …`);
    await fill(low);
    const atLow = await measure();
    log(`growth: fill to ${fmt(high)} …`);
    await fill(high);
    const atHigh = await measure();
    const ratio = atHigh.eventsPerSec / atLow.eventsPerSec;
    const [{ size }] = await sql<{ size: string }>(
      url,
      `SELECT pg_size_pretty(pg_total_relation_size('events')) AS size`,
    );
    console.log(
      '\n' +
        table(
          ['stored before', 'events timed', 'events/s'],
          [atLow, atHigh].map((r) => [fmt(r.storedBefore), fmt(r.events), fmt(r.eventsPerSec)]),
        ),
    );
    console.log(
      `\nrate at ${fmt(high)} / rate at ${fmt(low)} = ${fmt(ratio * 100)} % (target ≥ 80 %: ${ratio >= 0.8 ? 'met' : 'NOT met'}); events table ${size}`,
    );
    const file = writeResults(`growth-${timestamp()}`, {
      mode: 'growth',
      low: atLow,
      high: atHigh,
      ratio,
      met: ratio >= 0.8,
      eventsTableSize: size,
    });
    log(`results written to ${file}`);
  } finally {
    await p.end();
  }
}

/**
 * Writes the synthetic feed (bench/generator.ts) as NDJSON, or streams it to the service.
 *
 *   node -r @swc-node/register bench/generate.ts --contracts 20000 --out feed.ndjson
 *   node -r @swc-node/register bench/generate.ts --contracts 20000 --http http://127.0.0.1:3000 --token <platform JWT>
 *   node -r @swc-node/register bench/generate.ts --contracts 20000 --kafka 127.0.0.1:9092 [--topic procurement.events]
 *
 * Options: --seed N, --max-events N, --violations signing=0.1,payment=0.3,…, --sme 0.7,
 * --termination 0.04, --award-from 2021-01-04 --award-to 2025-06-30 --until 2025-12-31,
 * --batch 500 (HTTP array size), --stats (print what was generated to stderr).
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { Kafka, logLevel } from 'kafkajs';
import {
  emptyStats,
  generateEvents,
  inChunks,
  parseViolations,
  type GeneratorInput,
} from './generator';
import { parseArgs } from './lib/report';

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const num = (k: string) => (a[k] === undefined ? undefined : Number(a[k]));
  const str = (k: string) => (typeof a[k] === 'string' ? a[k] : undefined);
  if (!a.contracts) throw new Error('--contracts N is required');
  const gen: GeneratorInput = { contracts: Number(a.contracts) };
  const opt = <K extends keyof GeneratorInput>(k: K, v: GeneratorInput[K] | undefined) => {
    if (v !== undefined) gen[k] = v;
  };
  opt('seed', num('seed'));
  opt('maxEvents', num('max-events'));
  opt('smeShare', num('sme'));
  opt('terminationRate', num('termination'));
  opt('awardFrom', str('award-from'));
  opt('awardTo', str('award-to'));
  opt('until', str('until'));
  if (typeof a.violations === 'string') gen.violations = parseViolations(a.violations);
  const stats = emptyStats();
  const feed = generateEvents(gen, stats);

  if (typeof a.http === 'string') {
    const base = a.http.replace(/\/$/, '');
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (typeof a.token === 'string') headers.authorization = `Bearer ${a.token}`;
    for (const batch of inChunks(feed, num('batch') ?? 500)) {
      const r = await fetch(`${base}/v1/events`, {
        method: 'POST',
        headers,
        body: JSON.stringify(batch),
      });
      if (r.status !== 200)
        throw new Error(`POST /v1/events answered ${r.status}: ${(await r.text()).slice(0, 500)}`);
    }
  } else if (typeof a.kafka === 'string') {
    const kafka = new Kafka({
      clientId: 'bench-generate',
      brokers: a.kafka.split(','),
      logLevel: logLevel.WARN,
    });
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    const topic = str('topic') ?? 'procurement.events';
    try {
      for (const batch of inChunks(feed, 5000)) {
        await producer.send({
          topic,
          acks: -1,
          messages: batch.map((e) => ({ key: e.contractId, value: JSON.stringify(e) })),
        });
      }
    } finally {
      await producer.disconnect();
    }
  } else {
    const out = typeof a.out === 'string' ? createWriteStream(a.out) : process.stdout;
    for (const batch of inChunks(feed, 1000)) {
      if (!out.write(batch.map((e) => JSON.stringify(e)).join('\n') + '\n'))
        await once(out, 'drain');
    }
    if (out !== process.stdout) {
      out.end();
      await once(out, 'finish');
    }
  }
  if (a.stats) process.stderr.write(JSON.stringify(stats, null, 2) + '\n');
  else process.stderr.write(`${stats.events} events of ${stats.contracts} contracts\n`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

/**
 * Publishes NDJSON event envelopes to the events topic, keyed by contractId (SPEC §5).
 *
 *   npm run emit -- events.ndjson [more.ndjson …]     (`-` reads standard input)
 *
 * Env: KAFKA_BROKERS (127.0.0.1:9092), KAFKA_TOPIC (procurement.events), KAFKA_PARTITIONS (6,
 * used only when the topic has to be created), KAFKA_CLIENT_ID (compliance-monitor-emit).
 * Lines are sent as they are, in order; a line that is not JSON or has no contractId is sent
 * too (without a key), so that the dead-letter path can be tried out. Blank lines are skipped.
 */
import { createReadStream } from 'node:fs';
import * as readline from 'node:readline';
import { Kafka, Partitioners, logLevel, type Message } from 'kafkajs';
import { DEFAULT_EVENTS_TOPIC } from '@app/contracts';

const BATCH = 500;

async function main(): Promise<void> {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    console.error('usage: npm run emit -- file.ndjson [more.ndjson …]   (- for standard input)');
    process.exit(2);
  }
  const brokers = (process.env.KAFKA_BROKERS || '127.0.0.1:9092')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const topic = process.env.KAFKA_TOPIC || DEFAULT_EVENTS_TOPIC;
  const partitions = Number(process.env.KAFKA_PARTITIONS || 6);
  const kafka = new Kafka({
    clientId: process.env.KAFKA_CLIENT_ID || 'compliance-monitor-emit',
    brokers,
    logLevel: logLevel.ERROR,
    retry: { retries: 5 },
  });

  const admin = kafka.admin();
  await admin.connect();
  try {
    if (!(await admin.listTopics()).includes(topic)) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: [{ topic, numPartitions: partitions }],
      });
      console.error(`created topic ${topic} (${partitions} partitions)`);
    }
  } finally {
    await admin.disconnect();
  }

  const producer = kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
  });
  await producer.connect();
  const t0 = Date.now();
  let sent = 0;
  let unkeyed = 0;
  let batch: Message[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    await producer.send({ topic, acks: -1, messages: batch });
    sent += batch.length;
    batch = [];
  };
  try {
    for (const file of files) {
      const input = file === '-' ? process.stdin : createReadStream(file, { encoding: 'utf8' });
      for await (const line of readline.createInterface({ input, crlfDelay: Infinity })) {
        if (line.trim() === '') continue;
        const key = contractIdOf(line);
        if (key === null) unkeyed++;
        batch.push({ key, value: line });
        if (batch.length >= BATCH) await flush();
      }
    }
    await flush();
  } finally {
    await producer.disconnect();
  }
  const extra = unkeyed > 0 ? ` (${unkeyed} without a contractId, sent unkeyed)` : '';
  console.error(
    `sent ${sent} records to ${topic} on ${brokers.join(',')} in ${Date.now() - t0} ms${extra}`,
  );
}

function contractIdOf(line: string): string | null {
  try {
    const v = JSON.parse(line) as { contractId?: unknown } | null;
    return typeof v?.contractId === 'string' ? v.contractId : null;
  } catch {
    return null;
  }
}

main().catch((err: unknown) => {
  console.error(`emit failed: ${(err as Error)?.stack ?? String(err)}`);
  process.exit(1);
});

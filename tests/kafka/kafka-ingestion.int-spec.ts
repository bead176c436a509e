/**
 * Kafka ingestion on a real broker (SPEC §5, issue "Kafka ingestion without loss or
 * duplicates"): 10,000 records over 6 partitions with 5 % duplicates and 1 % invalid ones;
 * and HTTP serving while the broker is unreachable.
 */
import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import request from 'supertest';
import { DlqHeaders } from '@app/contracts';
import { freePort } from '@app/platform';
import {
  deleteTopics,
  describeWithKafka,
  groupLag,
  produce,
  readTopic,
  testKafkaClient,
  waitUntil,
  kafkaEnv,
  storedFacts,
  uniqueName,
  workload,
} from '@app/testing';
import { KafkaMetrics } from '../../apps/monitor/src/kafka';
import { startTestApp, type TestApp } from '../support/test-app';

jest.setTimeout(180_000);

describeWithKafka(
  'Kafka consumer: 10,000 records, 6 partitions, 5 % duplicates, 1 % invalid',
  (brokers) => {
    const names = {
      topic: uniqueName('kt-bulk'),
      dlq: uniqueName('kt-bulk-dlq'),
      group: uniqueName('kt-bulk-group'),
    };
    let t: TestApp;
    let kafka: Kafka;
    let producer: Producer;

    beforeAll(async () => {
      kafka = testKafkaClient(brokers);
      t = await startTestApp({ env: kafkaEnv(brokers, names) });
      producer = kafka.producer({
        createPartitioner: Partitioners.DefaultPartitioner,
        allowAutoTopicCreation: false,
      });
      await producer.connect();
    });
    afterAll(async () => {
      await producer?.disconnect();
      await t?.close();
      if (kafka) await deleteTopics(kafka, [names.topic, names.dlq]);
    });

    const health = async () =>
      (await request(t.url).get('/health')).body as { kafka: Record<string, unknown> };

    it('creates its topics, joins the group and shows it in /health', async () => {
      await waitUntil(
        async () => (await health()).kafka.state === 'running',
        30_000,
        async () => JSON.stringify((await health()).kafka),
      );
      const k = (await health()).kafka;
      expect(k).toEqual(
        expect.objectContaining({
          state: 'running',
          topic: names.topic,
          dlqTopic: names.dlq,
          groupId: names.group,
          assignedPartitions: [0, 1, 2, 3, 4, 5],
        }),
      );
    });

    it('stores every valid event exactly once; every invalid record is dead-lettered with its headers and kept in rejected_events', async () => {
      const w = workload({ total: 10_000, duplicateRate: 0.05, invalidRate: 0.01, tag: 'bulk' });
      expect(w.records).toHaveLength(10_000);
      const t0 = Date.now();
      await produce(producer, names.topic, w.records);
      const produced = Date.now() - t0;
      await waitUntil(
        async () => (await groupLag(kafka, names.group, names.topic)) === 0,
        120_000,
        async () =>
          `lag ${await groupLag(kafka, names.group, names.topic)}: ${JSON.stringify(t.app.get(KafkaMetrics).snapshot())}`,
      );
      const consumed = Date.now() - t0;
      console.log(
        `[kafka bulk] produced 10,000 records in ${produced} ms; all committed after ${consumed} ms`,
      );

      // the events table: every valid eventId once, nothing else
      const db = await storedFacts(t.db.url);
      expect(db.events).toBe(w.validIds.size);
      expect(db.distinctEvents).toBe(db.events);
      expect([...db.ids].filter((id) => !w.validIds.has(id))).toEqual([]);

      // rejected_events: every invalid record once, with its Kafka origin and code
      const expectedCode = (value: string | null, key: string | null) =>
        value === null ? w.invalid.get(`key:${key}`) : w.invalid.get(value);
      expect(db.rejected).toHaveLength(w.invalid.size);
      expect(new Set(db.rejected.map((r) => `${r.partition}/${r.offset}`)).size).toBe(
        w.invalid.size,
      );
      const notJson = db.rejected.filter((r) => r.code === 'EVENT.INVALID_JSON');
      // kept as JSON text of what came: the record's text as a JSON string, null for a tombstone
      const original = (r: (typeof notJson)[number]) =>
        (JSON.parse(r.payload) as string | null) ?? `key:${r.contractId}`;
      expect(notJson.filter((r) => w.invalid.get(original(r)) !== 'EVENT.INVALID_JSON')).toEqual(
        [],
      );

      // the dead-letter topic: the original bytes and key, headers naming the error and the origin
      const dlq = await readTopic(kafka, names.dlq, w.invalid.size, 30_000);
      expect(dlq).toHaveLength(w.invalid.size);
      const rejectedAt = new Map(db.rejected.map((r) => [`${r.partition}/${r.offset}`, r.code]));
      const seen = new Set<string>();
      for (const m of dlq) {
        const value = m.value === null ? null : m.value.toString('utf8');
        const code = expectedCode(value, m.key);
        expect({ value, code: m.headers[DlqHeaders.ERROR_CODE] }).toEqual({ value, code });
        expect(m.headers[DlqHeaders.ERROR_MESSAGE]).toEqual(expect.any(String));
        expect(m.headers[DlqHeaders.ORIGINAL_TOPIC]).toBe(names.topic);
        expect(m.headers[DlqHeaders.ORIGINAL_TIMESTAMP]).toMatch(/^\d{13}$/);
        const origin = `${m.headers[DlqHeaders.ORIGINAL_PARTITION]}/${m.headers[DlqHeaders.ORIGINAL_OFFSET]}`;
        expect(rejectedAt.get(origin)).toBe(code);
        seen.add(origin);
      }
      expect(seen.size).toBe(w.invalid.size);
      const codes = [...w.invalid.values()].reduce<Record<string, number>>(
        (a, c) => ({ ...a, [c]: (a[c] ?? 0) + 1 }),
        {},
      );

      // the counters, in /metrics too
      const m = t.app.get(KafkaMetrics).snapshot();
      expect(m).toEqual(
        expect.objectContaining({
          consumed: 10_000,
          accepted: w.validIds.size,
          duplicate: w.duplicates,
          rejected: w.invalid.size,
          rejectedByCode: codes,
          deadLettered: w.invalid.size,
          retries: 0,
          lag: { '0': 0, '1': 0, '2': 0, '3': 0, '4': 0, '5': 0 },
        }),
      );
      const text = (await request(t.url).get('/metrics').expect(200)).text;
      expect(text).toContain('kafka_consumer_consumed_total 10000');
      expect(text).toContain(`kafka_consumer_events_total{outcome="duplicate"} ${w.duplicates}`);
      expect(text).toContain(`kafka_consumer_lag{topic="${names.topic}",partition="5"} 0`);
      expect(text).toMatch(/\nprocess_resident_memory_bytes \d+\n/);
    });
  },
);

describe('Kafka consumer: the broker is unreachable', () => {
  it('HTTP serves meanwhile, /health shows the consumer reconnecting, and shutdown is prompt', async () => {
    const deadPort = await freePort();
    const names = { topic: 'unused', dlq: 'unused.dlq', group: 'unused' };
    const t = await startTestApp({
      env: { ...kafkaEnv([`127.0.0.1:${deadPort}`], names), LOG_LEVEL: 'error' },
    });
    try {
      const res = await request(t.url).get('/health');
      expect(res.status).toBe(200);
      expect(['connecting', 'reconnecting']).toContain(res.body.kafka.state);
      // still serving a moment later, the consumer still trying
      await new Promise((r) => setTimeout(r, 1_500));
      const again = await request(t.url).get('/health');
      expect(again.status).toBe(200);
      expect(['connecting', 'reconnecting']).toContain(again.body.kafka.state);
    } finally {
      const t0 = Date.now();
      await t.close();
      expect(Date.now() - t0).toBeLessThan(5_000);
    }
  });
});

/**
 * One poison record per partition must not stop Kafka ingestion (issue #10, items 1, 3, 9),
 * on the real broker: records PostgreSQL cannot store are dead-lettered and kept once, the
 * valid records behind them on the same partitions are stored, and a partition that does
 * stop progressing (here: its dead-letter topic is gone) is reported by /health and /metrics.
 */
import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import request from 'supertest';
import { DlqHeaders } from '@app/contracts';
import {
  createTopics,
  deleteTopics,
  describeWithKafka,
  groupLag,
  readTopic,
  testKafkaClient,
  waitUntil,
  ev,
  kafkaEnv,
  storedFacts,
  uniqueName,
} from '@app/testing';
import { startTestApp, type TestApp } from '../support/test-app';

jest.setTimeout(180_000);

const PARTITIONS = 6;
const CONTRACTS_PER_PARTITION = 50;

interface Health {
  status: string;
  problems: string[];
  kafka: {
    state: string;
    stuckPartitions: Array<{ partition: number; code: string; step: string }>;
  };
}

describeWithKafka('Kafka consumer: poison records on every partition', (brokers) => {
  const names = {
    topic: uniqueName('kt-poison'),
    dlq: uniqueName('kt-poison-dlq'),
    group: uniqueName('kt-poison-group'),
  };
  let t: TestApp;
  let kafka: Kafka;
  let producer: Producer;

  beforeAll(async () => {
    kafka = testKafkaClient(brokers);
    t = await startTestApp({ env: { ...kafkaEnv(brokers, names), KAFKA_STUCK_AFTER_MS: '1000' } });
    // idempotent: a send retried after a timeout must not write the records twice (the
    // assertions count the bad records; a fresh-clone CI run under load saw them 3–4 times)
    producer = kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    await waitUntil(async () => (await health()).kafka.state === 'running', 30_000);
  });
  afterAll(async () => {
    await producer?.disconnect();
    await t?.close();
    if (kafka) await deleteTopics(kafka, [names.topic, names.dlq]);
  });

  const health = async () => (await request(t.url).get('/health')).body as Health;

  it('NUL, lone surrogates and NUL in type on every partition: the valid records behind them are stored, the bad ones dead-lettered and kept once, no partition stuck', async () => {
    const poison = (p: number) => {
      const c = `CQ-POISON-${p}`;
      return [
        // JSON escapes: valid JSON whose strings PostgreSQL cannot store
        JSON.stringify(ev.terminated(c, '2021-10-01', '解除\u0000')),
        JSON.stringify(ev.terminated(c, '2021-10-02', 'x\ud800')),
        JSON.stringify({ ...ev.signed(c, '2021-09-20'), type: 'ContractSigned\u0000' }),
        // a raw NUL byte inside a string: not JSON at all
        Buffer.from('{"eventId":"a\u0000b"}', 'utf8'),
      ];
    };
    const validIds = new Set<string>();
    const messages: Array<{ partition: number; key: string; value: string | Buffer }> = [];
    for (let p = 0; p < PARTITIONS; p++) {
      for (const value of poison(p)) messages.push({ partition: p, key: `CQ-POISON-${p}`, value });
      for (let i = 0; i < CONTRACTS_PER_PARTITION; i++) {
        const c = `CQ-BEHIND-${p}-${i}`;
        for (const e of [ev.award(c, '2021-09-13'), ev.signed(c, '2021-09-20')]) {
          validIds.add(e.eventId);
          messages.push({ partition: p, key: c, value: JSON.stringify(e) });
        }
      }
    }
    const badCount = PARTITIONS * 4;
    await producer.send({ topic: names.topic, acks: -1, messages });

    const seen: string[] = [];
    await waitUntil(
      async () => {
        const h = await health();
        seen.push(h.status);
        // never "ok" while a partition is stuck; and none may get stuck here
        expect(h.kafka.stuckPartitions).toEqual([]);
        return (await groupLag(kafka, names.group, names.topic)) === 0;
      },
      120_000,
      async () =>
        `lag ${await groupLag(kafka, names.group, names.topic)}: ${JSON.stringify(await health())}`,
      200,
    );
    expect(new Set(seen)).toEqual(new Set(['ok']));

    const facts = await storedFacts(t.db.url);
    expect(facts.events).toBe(validIds.size);
    expect([...facts.ids].filter((id) => !validIds.has(id))).toEqual([]);
    expect(facts.rejected).toHaveLength(badCount);
    expect(new Set(facts.rejected.map((r) => `${r.partition}/${r.offset}`)).size).toBe(badCount);
    expect(facts.rejected.map((r) => r.code).sort()).toEqual(
      [
        ...Array(PARTITIONS * 3).fill('EVENT.INVALID_TEXT'),
        ...Array(PARTITIONS).fill('EVENT.INVALID_JSON'),
      ].sort(),
    );

    const dlq = await readTopic(kafka, names.dlq, badCount, 30_000);
    expect(dlq).toHaveLength(badCount);
    expect(
      new Set(
        dlq.map(
          (m) =>
            `${m.headers[DlqHeaders.ORIGINAL_PARTITION]}/${m.headers[DlqHeaders.ORIGINAL_OFFSET]}`,
        ),
      ).size,
    ).toBe(badCount);

    const metrics = (await request(t.url).get('/metrics').expect(200)).text;
    for (let p = 0; p < PARTITIONS; p++)
      expect(metrics).toContain(`kafka_consumer_lag{topic="${names.topic}",partition="${p}"} 0`);
    expect(metrics).not.toContain('kafka_consumer_partition_stuck{');
    expect((await health()).status).toBe('ok');
  });

  it('a partition that cannot progress (its dead-letter topic is gone) makes /health degraded, naming the partition and the error; it recovers', async () => {
    await deleteTopics(kafka, [names.dlq]);
    await waitUntil(async () => {
      const admin = kafka.admin();
      await admin.connect();
      try {
        return !(await admin.listTopics()).includes(names.dlq);
      } finally {
        await admin.disconnect();
      }
    }, 30_000);
    const bad = ev.signed('CQ-STUCK-1', '2021-09-20');
    await producer.send({
      topic: names.topic,
      acks: -1,
      messages: [
        { partition: 2, key: 'CQ-STUCK-1', value: JSON.stringify({ ...bad, data: { amount: 1 } }) },
      ],
    });
    await waitUntil(
      async () => (await health()).status === 'degraded',
      120_000,
      async () => JSON.stringify(await health()),
    );
    const h = await health();
    expect(h.problems).toContain('kafka');
    expect(h.kafka.stuckPartitions).toEqual([
      expect.objectContaining({ partition: 2, step: 'dead-letter', code: expect.any(String) }),
    ]);
    const metrics = (await request(t.url).get('/metrics').expect(200)).text;
    expect(metrics).toMatch(
      new RegExp(
        `kafka_consumer_partition_stuck\\{topic="${names.topic}",partition="2",code="[^"]+"\\} 1`,
      ),
    );

    await createTopics(kafka, [{ topic: names.dlq, partitions: PARTITIONS }]);
    await waitUntil(
      async () => (await groupLag(kafka, names.group, names.topic)) === 0,
      120_000,
      async () => JSON.stringify(await health()),
    );
    await waitUntil(async () => (await health()).status === 'ok', 30_000);
    const dlq = await readTopic(kafka, names.dlq, 1, 30_000);
    expect(dlq.map((m) => m.headers[DlqHeaders.ERROR_CODE])).toEqual(['EVENT.INVALID_PAYLOAD']);
  });
});

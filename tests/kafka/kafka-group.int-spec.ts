/**
 * SPEC §5: several instances form one consumer group. Two application instances on one
 * database share the partitions; one of them shuts down gracefully mid-stream (what SIGTERM
 * does: finish the batch in hand, commit, leave the group) and the other takes over.
 */
import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import {
  createTestDatabase,
  deleteTopics,
  describeWithKafka,
  groupLag,
  produce,
  testKafkaClient,
  waitUntil,
  type TestDatabase,
  countEvents,
  kafkaEnv,
  sleep,
  storedFacts,
  uniqueName,
  workload,
} from '@app/testing';
import { startInProcessApp, type InProcessApp } from '../support/processes';

jest.setTimeout(180_000);

describeWithKafka('Kafka consumer: two instances in one group', (brokers) => {
  const names = {
    topic: uniqueName('kt-group'),
    dlq: uniqueName('kt-group-dlq'),
    group: uniqueName('kt-group-group'),
  };
  let db: TestDatabase;
  let kafka: Kafka;
  let producer: Producer;
  let a: InProcessApp | undefined;
  let b: InProcessApp | undefined;

  beforeAll(async () => {
    db = await createTestDatabase('kafka_group');
    kafka = testKafkaClient(brokers);
    producer = kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
    });
    await producer.connect();
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await producer?.disconnect();
    if (kafka) await deleteTopics(kafka, [names.topic, names.dlq]);
    await db?.drop();
  });

  it('both instances get partitions; a graceful leave mid-stream hands over without loss or redelivery', async () => {
    const env = kafkaEnv(brokers, names);
    a = await startInProcessApp(db.url, env);
    b = await startInProcessApp(db.url, env);
    const both = () =>
      [...a!.metrics().assignedPartitions, ...b!.metrics().assignedPartitions].sort();
    await waitUntil(
      () =>
        a!.metrics().assignedPartitions.length > 0 &&
        b!.metrics().assignedPartitions.length > 0 &&
        JSON.stringify(both()) === JSON.stringify([0, 1, 2, 3, 4, 5]),
      60_000,
      () =>
        `a ${JSON.stringify(a!.metrics().assignedPartitions)} b ${JSON.stringify(b!.metrics().assignedPartitions)}`,
    );
    const split = { a: a.metrics().assignedPartitions, b: b.metrics().assignedPartitions };

    const w = workload({ total: 6_000, duplicateRate: 0.05, invalidRate: 0.01, tag: 'group' });
    const t0 = Date.now();
    const producing = (async () => {
      for (let i = 0; i < w.records.length; i += 250) {
        await produce(producer, names.topic, w.records.slice(i, i + 250));
        await sleep(30);
      }
    })();
    await waitUntil(async () => (await countEvents(db.url)) >= 2_000, 60_000);
    const bBefore = b.metrics();
    await b.close(); // what main.ts does on SIGTERM
    const bAfter = b.metrics();
    await producing;
    await waitUntil(
      async () => (await groupLag(kafka, names.group, names.topic)) === 0,
      90_000,
      async () => `lag ${await groupLag(kafka, names.group, names.topic)}`,
    );
    const elapsed = Date.now() - t0;

    const facts = await storedFacts(db.url);
    expect(facts.events).toBe(w.validIds.size);
    expect(facts.distinctEvents).toBe(facts.events);
    expect([...facts.ids].filter((id) => !w.validIds.has(id))).toEqual([]);
    expect(facts.rejected).toHaveLength(w.invalid.size);

    const ma = a.metrics();
    const mb = b.metrics();
    console.log(
      `[kafka group] split a=${JSON.stringify(split.a)} b=${JSON.stringify(split.b)}; b consumed ${mb.consumed} ` +
        `(${mb.consumed - bBefore.consumed} while closing), a ${ma.consumed}; all committed after ${elapsed} ms`,
    );
    expect(mb).toEqual(bAfter); // nothing after close
    expect(ma.consumed).toBeGreaterThan(0);
    expect(mb.consumed).toBeGreaterThan(0);
    expect(ma.assignedPartitions).toEqual([0, 1, 2, 3, 4, 5]);
    // The leaving instance committed everything it had stored, so nothing was handled twice.
    expect(ma.consumed + mb.consumed).toBe(w.records.length);
    expect(ma.duplicate + mb.duplicate).toBe(w.duplicates);
    expect(ma.accepted + mb.accepted).toBe(w.validIds.size);
    expect(ma.rejected + mb.rejected).toBe(w.invalid.size);
  });
});

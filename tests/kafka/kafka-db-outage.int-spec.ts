/**
 * PostgreSQL unreachable for 10 s while records flow: the application reaches its database
 * through a TCP proxy that the test switches off (open connections cut, new ones refused)
 * and on again. The consumer must hold its batch, commit nothing, back off, and resume.
 */
import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import request from 'supertest';
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
import { DbProxy, startInProcessApp, type InProcessApp } from '../support/processes';

jest.setTimeout(180_000);

const OUTAGE_MS = 10_000;

describeWithKafka('Kafka consumer: PostgreSQL unreachable for 10 s mid-stream', (brokers) => {
  const names = {
    topic: uniqueName('kt-dbdown'),
    dlq: uniqueName('kt-dbdown-dlq'),
    group: uniqueName('kt-dbdown-group'),
  };
  let db: TestDatabase;
  let proxy: DbProxy;
  let kafka: Kafka;
  let producer: Producer;
  let app: InProcessApp | undefined;

  beforeAll(async () => {
    db = await createTestDatabase('kafka_dbdown');
    proxy = new DbProxy(Number(new URL(db.url).port));
    await proxy.start();
    kafka = testKafkaClient(brokers);
    producer = kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
    });
    await producer.connect();
  });
  afterAll(async () => {
    await app?.close();
    await proxy?.stop();
    await producer?.disconnect();
    if (kafka) await deleteTopics(kafka, [names.topic, names.dlq]);
    await db?.drop();
  });

  const health = async () => {
    const res = await request(app!.url).get('/health');
    return {
      status: res.status,
      body: res.body as { database: string; kafka: Record<string, unknown> },
    };
  };

  it('holds the batch and backs off while the database is down, then resumes; totals exact', async () => {
    app = await startInProcessApp(proxy.urlFor(db.url), kafkaEnv(brokers, names));
    await waitUntil(async () => (await health()).body.kafka.state === 'running', 30_000);

    const w = workload({ total: 5_000, duplicateRate: 0.05, invalidRate: 0.01, tag: 'dbdown' });
    const producing = (async () => {
      for (let i = 0; i < w.records.length; i += 100) {
        await produce(producer, names.topic, w.records.slice(i, i + 100));
        await sleep(60);
      }
    })();
    await waitUntil(async () => (await countEvents(db.url)) >= 800, 60_000);

    await proxy.stop();
    const downAt = Date.now();
    // While it is down: HTTP still answers; /health says the database is down and the consumer retrying.
    await waitUntil(
      async () => (await health()).body.kafka.state === 'retrying',
      OUTAGE_MS - 2_000,
      async () => JSON.stringify((await health()).body),
    );
    const during = await health();
    expect(during.status).toBe(503);
    expect(during.body.database).toBe('down');
    expect(Object.keys(during.body.kafka.failingPartitions as object).length).toBeGreaterThan(0);
    const lagDuring = await groupLag(kafka, names.group, names.topic);
    expect(lagDuring).toBeGreaterThan(0);
    await sleep(OUTAGE_MS - (Date.now() - downAt));
    // nothing was committed past what is stored: the lag only grew
    expect(await groupLag(kafka, names.group, names.topic)).toBeGreaterThanOrEqual(lagDuring);

    await proxy.restart();
    const upAt = Date.now();
    await producing;
    await waitUntil(
      async () => (await groupLag(kafka, names.group, names.topic)) === 0,
      90_000,
      async () =>
        `lag ${await groupLag(kafka, names.group, names.topic)}; ${JSON.stringify((await health()).body)}`,
    );
    const recovered = Date.now() - upAt;

    const facts = await storedFacts(db.url);
    expect(facts.events).toBe(w.validIds.size);
    expect(facts.distinctEvents).toBe(facts.events);
    expect([...facts.ids].filter((id) => !w.validIds.has(id))).toEqual([]);
    expect(new Set(facts.rejected.map((r) => `${r.partition}/${r.offset}`)).size).toBe(
      w.invalid.size,
    );

    const m = app.metrics();
    const after = await health();
    console.log(
      `[kafka db outage] ${OUTAGE_MS} ms outage; ${m.retries} retried steps; all committed ${recovered} ms after the database came back; ` +
        `rejected_events rows ${facts.rejected.length} for ${w.invalid.size} invalid`,
    );
    expect(m.retries).toBeGreaterThan(0);
    expect(after.status).toBe(200);
    expect(after.body.kafka).toEqual(
      expect.objectContaining({ state: 'running', failingPartitions: {} }),
    );
  });
});

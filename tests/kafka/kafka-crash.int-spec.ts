/**
 * SPEC §5: "a crash at any point loses nothing and duplicates nothing". The service runs as
 * a real process (node + swc, as `npm start` would) and is killed with SIGKILL while it
 * consumes; a new process takes over from the group's committed offsets.
 */
import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import { DlqHeaders } from '@app/contracts';
import {
  createTestDatabase,
  deleteTopics,
  describeWithKafka,
  endOffsets,
  groupLag,
  produce,
  readTopic,
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
import { spawnService, type ChildService } from '../support/processes';

jest.setTimeout(240_000);

describeWithKafka('Kafka consumer: SIGKILL mid-stream, then a new process', (brokers) => {
  const names = {
    topic: uniqueName('kt-kill'),
    dlq: uniqueName('kt-kill-dlq'),
    group: uniqueName('kt-kill-group'),
  };
  const children: ChildService[] = [];
  let db: TestDatabase;
  let kafka: Kafka;
  let producer: Producer;

  beforeAll(async () => {
    db = await createTestDatabase('kafka_kill');
    kafka = testKafkaClient(brokers);
    producer = kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
    });
    await producer.connect();
  });
  afterAll(async () => {
    for (const c of children)
      if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
    await Promise.all(children.map((c) => c.exited));
    await producer?.disconnect();
    if (kafka) await deleteTopics(kafka, [names.topic, names.dlq]);
    await db?.drop();
  });

  const health = async (url: string) =>
    (await (await fetch(`${url}/health`)).json()) as {
      kafka: { state: string; assignedPartitions: number[] };
    };
  const metricValue = async (url: string, line: string) => {
    const text = await (await fetch(`${url}/metrics`)).text();
    return Number(
      new RegExp(`^${line.replace(/[{}"=]/g, (c) => `\\${c}`)} (\\d+)$`, 'm').exec(text)?.[1] ??
        NaN,
    );
  };

  it('loses nothing and stores nothing twice; rejects reach rejected_events and the DLQ at least once', async () => {
    const env = kafkaEnv(brokers, names);
    const t0 = Date.now();
    const first = spawnService(db.url, env);
    children.push(first);
    const url1 = await first.ready;
    await waitUntil(
      async () => (await health(url1)).kafka.state === 'running',
      60_000,
      () => first.output(),
    );
    const booted = Date.now() - t0;

    // Produce in slices while the first process consumes, and kill it in the middle.
    const w = workload({ total: 8_000, duplicateRate: 0.05, invalidRate: 0.01, tag: 'kill' });
    let producedRecords = 0;
    const producing = (async () => {
      for (let i = 0; i < w.records.length; i += 250) {
        await produce(producer, names.topic, w.records.slice(i, i + 250));
        producedRecords = Math.min(w.records.length, i + 250);
        await sleep(40);
      }
    })();
    await waitUntil(
      async () => (await countEvents(db.url)) >= 1_500,
      60_000,
      () => first.output(),
    );
    first.proc.kill('SIGKILL');
    await first.exited;
    const storedAtKill = await countEvents(db.url);
    const producedAtKill = producedRecords;
    await producing;
    expect(storedAtKill).toBeLessThan(w.validIds.size);

    const t1 = Date.now();
    const second = spawnService(db.url, env);
    children.push(second);
    const url2 = await second.ready;
    // The killed member stays in the group until its session times out (30 s).
    await waitUntil(
      async () => (await groupLag(kafka, names.group, names.topic)) === 0,
      150_000,
      async () =>
        `lag ${await groupLag(kafka, names.group, names.topic)}; ${JSON.stringify(await health(url2))}\n${second.output().slice(-2000)}`,
      500,
    );
    const resumed = Date.now() - t1;

    const facts = await storedFacts(db.url);
    expect(facts.events).toBe(w.validIds.size);
    expect(facts.distinctEvents).toBe(facts.events);
    expect([...facts.ids].filter((id) => !w.validIds.has(id))).toEqual([]);

    // Rejected records: kept exactly once each (keyed by their record, so a redelivery after
    // the kill adds nothing), and dead-lettered once each: a redelivered record found marked
    // is not sent again. The window left is a kill while a dead letter is being published and
    // marked (one round trip to the broker and one to PostgreSQL): that chunk's rejects are
    // published again, so the DLQ is checked for each record, not for an exact count.
    const origin = (p: number | string, o: string) => `${p}/${o}`;
    expect(facts.rejected).toHaveLength(w.invalid.size);
    expect(new Set(facts.rejected.map((r) => origin(r.partition, r.offset))).size).toBe(
      w.invalid.size,
    );
    const dlqTotal = await endOffsets(kafka, names.dlq);
    const dlq = await readTopic(kafka, names.dlq, dlqTotal, 30_000);
    expect(
      new Set(
        dlq.map((m) =>
          origin(m.headers[DlqHeaders.ORIGINAL_PARTITION], m.headers[DlqHeaders.ORIGINAL_OFFSET]),
        ),
      ).size,
    ).toBe(w.invalid.size);

    const redelivered = await metricValue(url2, 'kafka_consumer_events_total{outcome="duplicate"}');
    console.log(
      `[kafka kill] first process up in ${booted} ms; SIGKILL with ${storedAtKill} events stored, ${producedAtKill} records produced; ` +
        `second process done after ${resumed} ms; duplicates seen by the second: ${redelivered} ` +
        `(${w.duplicates} in the stream); rejected_events rows ${facts.rejected.length}, DLQ records ${dlqTotal} for ${w.invalid.size} invalid`,
    );

    // SIGTERM: the real process finishes, commits, leaves the group and exits 0.
    second.proc.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(second.output()).toContain('consumer stopped');
  });
});

import crypto from 'node:crypto';
import { expect, it } from 'vitest';
import kafkajs from 'kafkajs';
import { describeKafka, kafkaBrokers } from '../../support/kafka.ts';

const { Kafka, logLevel } = kafkajs;

describeKafka('the real Kafka broker from scripts/kafka.sh', () => {
  it('produces and consumes through kafkajs with manual offset commits', async () => {
    const kafka = new Kafka({ brokers: kafkaBrokers(), clientId: 'dualrun-test', logLevel: logLevel.NOTHING });
    const topic = `test.smoke.${crypto.randomBytes(4).toString('hex')}`;
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    const producer = kafka.producer();
    await producer.connect();
    const sent = Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: JSON.stringify({ i }) }));
    await producer.send({ topic, messages: sent });
    const consumer = kafka.consumer({ groupId: `${topic}.g` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const got: number[] = [];
    await new Promise<void>((resolve) => {
      void consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          for (const m of batch.messages) got.push(JSON.parse(m.value!.toString()).i);
          await consumer.commitOffsets([{ topic, partition: batch.partition, offset: String(Number(batch.lastOffset()) + 1) }]);
          if (got.length >= sent.length) resolve();
        },
      });
    });
    await consumer.disconnect();
    const offsets = await admin.fetchOffsets({ groupId: `${topic}.g`, topics: [topic] });
    const committed = offsets[0].partitions.reduce((s, p) => s + Number(p.offset), 0);
    await producer.disconnect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
    expect(got.sort((a, b) => a - b)).toEqual(sent.map((_, i) => i));
    expect(committed).toBe(50);
  });
});

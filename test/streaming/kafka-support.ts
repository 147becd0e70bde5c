/** Producing test streams to the real broker. */
import crypto from 'node:crypto';
import kafkajs from 'kafkajs';
import { kafkaBrokers } from '../support/kafka.ts';
import type { KafkaMessage } from './debezium-events.ts';

const { Kafka, logLevel } = kafkajs;

export function testKafka(): InstanceType<typeof Kafka> {
  return new Kafka({ brokers: kafkaBrokers(), clientId: 'dualrun-stream-test', logLevel: logLevel.NOTHING });
}

export function uniqueTopic(prefix: string): string {
  return `test.${prefix}.${crypto.randomBytes(4).toString('hex')}`;
}

export async function createTopic(topic: string, partitions: number): Promise<void> {
  const admin = testKafka().admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
  await admin.disconnect();
}

export async function deleteTopic(topic: string): Promise<void> {
  const admin = testKafka().admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
}

export async function produce(topic: string, messages: KafkaMessage[], chunk = 2000): Promise<void> {
  const producer = testKafka().producer();
  await producer.connect();
  for (let i = 0; i < messages.length; i += chunk) {
    await producer.send({ topic, messages: messages.slice(i, i + chunk) });
  }
  await producer.disconnect();
}

/** Moves an idle group's committed offsets back to the start: Kafka will redeliver everything. */
export async function rewindGroup(groupId: string, topic: string): Promise<void> {
  const admin = testKafka().admin();
  await admin.connect();
  await admin.resetOffsets({ groupId, topic, earliest: true });
  await admin.disconnect();
}

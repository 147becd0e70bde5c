/** A kafkajs client from the compiled config; kafkajs logs go to pino (warnings and up). */
import kafkajs, { type Kafka, type KafkaConfig as KafkajsConfig, type SASLOptions } from 'kafkajs';
import type { Logger } from 'pino';
import type { KafkaConfig } from '../src/config/types.ts';

const { Kafka: KafkaClass, logLevel } = kafkajs;

export function createKafka(cfg: KafkaConfig, log: Logger): Kafka {
  const options: KafkajsConfig = {
    brokers: [...cfg.brokers],
    clientId: cfg.clientId,
    ssl: cfg.ssl,
    logLevel: logLevel.WARN,
    logCreator: () => ({ level, log: entry }) => {
      const { message, ...extra } = entry;
      const fields = { kafka: { namespace: entry.namespace, ...extra } };
      // kafkajs logs at ERROR what it then retries (e.g. a rebalance in progress); warn is honest.
      if (level <= logLevel.WARN) log.warn(fields, `kafkajs: ${message}`);
    },
    retry: { retries: 8, initialRetryTime: 200 },
  };
  if (cfg.sasl) options.sasl = { mechanism: cfg.sasl.mechanism, username: cfg.sasl.username, password: cfg.sasl.password } as SASLOptions;
  return new KafkaClass(options);
}

/** Consumer group id of a dataset (`<groupPrefix>.<dataset>`). */
export function groupIdFor(cfg: KafkaConfig, dataset: string): string {
  return `${cfg.groupPrefix}.${dataset}`;
}

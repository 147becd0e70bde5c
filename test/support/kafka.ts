/**
 * The real broker for Kafka-backed tests. `kafkaBrokers()` returns the brokers
 * when KAFKA_BROKERS is set; `describeKafka` runs a suite only then, and under
 * CI=true global-setup has already failed the run if it is missing.
 */
import { describe, inject } from 'vitest';

export function kafkaBrokers(): string[] {
  const b = inject('kafkaBrokers');
  return b ? b.split(',').map((s) => s.trim()).filter(Boolean) : [];
}

export const describeKafka: typeof describe = ((name: string, fn: () => void) =>
  kafkaBrokers().length > 0 ? describe(name, fn) : describe.skip(`${name} (KAFKA_BROKERS not set)`, fn)) as typeof describe;

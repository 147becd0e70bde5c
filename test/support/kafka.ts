/**
 * The real broker for Kafka-backed tests. `kafkaBrokers()` returns the brokers
 * when KAFKA_BROKERS is set. `describeKafka` runs a suite only then; outside CI a
 * missing broker skips it (with the reason in its name), under CI=true it fails.
 */
import { describe, inject, it } from 'vitest';

export function kafkaBrokers(): string[] {
  const b = inject('kafkaBrokers');
  return b ? b.split(',').map((s) => s.trim()).filter(Boolean) : [];
}

export const describeKafka: typeof describe = ((name: string, fn: () => void) => {
  if (kafkaBrokers().length > 0) return describe(name, fn);
  if (process.env.CI === 'true') {
    return describe(name, () => it('needs KAFKA_BROKERS under CI=true', () => { throw new Error('KAFKA_BROKERS is not set: start the broker (npm run kafka:start)'); }));
  }
  return describe.skip(`${name} (KAFKA_BROKERS not set)`, fn);
}) as typeof describe;

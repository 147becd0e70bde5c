/**
 * `kafka.brokers` accepted any one to five digits as the port: `kafka:99999` and `kafka:0`
 * passed validation and failed only when a client tried them. A broker's port must be
 * 1..65535, refused with the field path otherwise (fast-check over the whole range).
 */
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { compileConfig } from '../../../src/core/config/compile-config.ts';

function brokerProblem(broker: string): string | null {
  try {
    compileConfig({ kafka: { brokers: ['127.0.0.1:9092', broker] }, datasets: {} }, { path: '/cfg/dualrun.yaml', env: {} });
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

it('a broker port is accepted exactly when it is 1..65535', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 99_999 }), (port) => {
    const m = brokerProblem(`kafka-0.internal:${port}`);
    if (port >= 1 && port <= 65_535) expect(m).toBeNull();
    else expect(m).toContain(`kafka.brokers.1: "kafka-0.internal:${port}" is not valid here (expected host:port, the port from 1 to 65535)`);
  }), { numRuns: 2000 });
  for (const port of [0, 1, 65_535, 65_536, 99_999]) expect(brokerProblem(`k:${port}`) === null).toBe(port >= 1 && port <= 65_535);
});

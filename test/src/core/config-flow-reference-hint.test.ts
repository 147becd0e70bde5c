/**
 * Regression: `sasl: { mechanism: plain, username: bob, password: ${KAFKA_PASSWORD} }` (a secret
 * from the environment, written as DESIGN's `${ENV_VAR}`, inside a flow map) failed with only the
 * YAML library's `Unexpected flow-map-start at node end`: inside `{ }` or `[ ]`, `${` opens a map.
 * The error now says to quote the reference, naming it.
 */
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/core/config/load-config.ts';

const message = (text: string): string => { try { parseConfigText(text, 'dualrun.yaml'); return ''; } catch (e) { return (e as Error).message; } };

describe('an unquoted ${VAR} inside a flow collection', () => {
  it.each([
    ['kafka:\n  sasl: { mechanism: plain, username: bob, password: ${KAFKA_PASSWORD} }\n', '"${KAFKA_PASSWORD}"'],
    ['kafka:\n  brokers: [${KAFKA_BROKER:-127.0.0.1:9092}]\n', '"${KAFKA_BROKER:-127.0.0.1:9092}"'],
  ])('%j says to quote it', (text, quoted) => {
    expect(message(text)).toContain(`; inside { } or [ ] quote a reference: ${quoted}`);
  });

  it('quoted, or in block style, it parses', () => {
    expect(message('kafka:\n  sasl: { mechanism: plain, username: bob, password: "${KAFKA_PASSWORD}" }\n')).toBe('');
    expect(message('database:\n  url: ${DATABASE_URL}\n')).toBe('');
  });

  it('another syntax error on such a line gets no such hint', () => {
    expect(message('kafka:\n  sasl: { mechanism: plain\n')).not.toContain('quote a reference');
  });
});

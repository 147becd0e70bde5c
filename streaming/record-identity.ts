/**
 * What a source record is, beyond where it is: a digest of its timestamp, key and
 * value. Stored with the position of the last record a transaction applied
 * (`dualrun.stream_positions.last_record`), so a Kafka topic deleted and created
 * again is told from the one that was applied even when the new one already holds
 * more records than were applied: offsets alone cannot tell them apart, and the new
 * topic's first records would be taken for applied ones and skipped. Computed once
 * per transaction (its last record), never per record.
 */
import crypto from 'node:crypto';
import type { SourceRecord } from './transport.ts';

export function recordIdentity(r: Pick<SourceRecord, 'timestamp' | 'key' | 'value'>): string {
  const h = crypto.createHash('sha256');
  const head = Buffer.alloc(16);
  head.writeDoubleBE(r.timestamp.getTime(), 0);
  // Lengths (-1: null) keep key and value apart: ("ab", "c") is not ("a", "bc").
  head.writeInt32BE(r.key === null ? -1 : r.key.length, 8);
  head.writeInt32BE(r.value === null ? -1 : Buffer.byteLength(r.value), 12);
  h.update(head);
  if (r.key) h.update(r.key);
  if (r.value !== null) h.update(r.value);
  return h.digest('base64url').slice(0, 22);
}

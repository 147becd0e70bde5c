/**
 * A deterministic stream of Debezium change events for an `orders` table, with the
 * final table it must produce: inserts, updates, deletes (each followed by the
 * null tombstone Debezium sends), re-inserts of deleted keys, duplicates (an
 * earlier event sent again later, stale ones included) and optional poison records
 * (bad JSON, schema violations, transform throws).
 */
export interface OrderRow { order_id: number; customer_id: number; amount: string; status: string; order_date: string }
export interface KafkaMessage { key: string; value: string | null }
export type PoisonKind = 'bad-json' | 'schema' | 'transform';

export interface EventStream {
  messages: KafkaMessage[];
  expected: Map<number, OrderRow>;
  poison: Record<PoisonKind, number>;
}

/** mulberry32: a small seeded PRNG so every run produces the same stream. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STATUSES = ['new', 'paid', 'shipped', 'cancelled'];

export function generateOrderEvents(count: number, o: { keys: number; poisonRate?: number; seed?: number; startLsn?: number; baseTsMs?: number }): EventStream {
  const rnd = prng(o.seed ?? 42);
  const live = new Map<number, OrderRow>();
  const deleted: number[] = [];
  const sent: KafkaMessage[] = [];
  const messages: KafkaMessage[] = [];
  const poison: Record<PoisonKind, number> = { 'bad-json': 0, schema: 0, transform: 0 };
  let lsn = o.startLsn ?? 1000;
  let nextKey = 1;
  const base = o.baseTsMs ?? Date.UTC(2026, 10, 20);
  const env = (op: string, before: OrderRow | null, after: OrderRow | null) =>
    JSON.stringify({ op, before, after, source: { lsn: ++lsn, ts_ms: base + lsn, table: 'orders' }, ts_ms: base + lsn });
  const row = (id: number): OrderRow => ({
    order_id: id, customer_id: 1 + Math.floor(rnd() * 300), amount: (Math.floor(rnd() * 100000) / 100).toFixed(2),
    status: STATUSES[Math.floor(rnd() * 4)], order_date: `2026-11-${String(1 + Math.floor(rnd() * 20)).padStart(2, '0')}`,
  });
  const keys = [...live.keys()];
  const pick = () => keys[Math.floor(rnd() * keys.length)];
  const push = (m: KafkaMessage) => { messages.push(m); sent.push(m); };
  while (messages.length < count) {
    const r = rnd();
    if (o.poisonRate && r < o.poisonRate) {
      const kind = (['bad-json', 'schema', 'transform'] as const)[messages.length % 3];
      poison[kind]++;
      const id = 1_000_000 + messages.length;
      const bad = { ...row(id), ...(kind === 'schema' ? { status: 'bogus' } : kind === 'transform' ? { customer_id: -1, status: 'cancelled' } : {}) };
      messages.push({ key: JSON.stringify({ order_id: id }), value: kind === 'bad-json' ? `{"op":"c","after":{"order_id":${id},` : env('c', null, bad) });
      continue;
    }
    const k = JSON.stringify;
    if (live.size < o.keys && (r < 0.3 || live.size < 10)) {
      const id = nextKey++;
      const after = row(id);
      live.set(id, after); keys.push(id);
      push({ key: k({ order_id: id }), value: env('c', null, after) });
    } else if (r < 0.75) {
      const id = pick();
      const before = live.get(id);
      if (!before) continue;
      const after = { ...row(id), customer_id: before.customer_id };
      live.set(id, after);
      push({ key: k({ order_id: id }), value: env('u', before, after) });
    } else if (r < 0.83) {
      const id = pick();
      const before = live.get(id);
      if (!before) continue;
      live.delete(id); deleted.push(id);
      push({ key: k({ order_id: id }), value: env('d', before, null) });
      messages.push({ key: k({ order_id: id }), value: null }); // Debezium's compaction tombstone
    } else if (r < 0.88 && deleted.length > 0) {
      const id = deleted.splice(Math.floor(rnd() * deleted.length), 1)[0];
      const after = row(id);
      live.set(id, after);
      push({ key: k({ order_id: id }), value: env('c', null, after) });
    } else if (sent.length > 0) {
      // A duplicate of an earlier event (at-least-once upstream), often stale by now.
      messages.push(sent[Math.floor(rnd() * sent.length)]);
    }
  }
  return { messages, expected: live, poison };
}

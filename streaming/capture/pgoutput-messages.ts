/**
 * Decoding the messages of Postgres's built-in `pgoutput` logical decoding plugin
 * (protocol version 1), as `pg_logical_slot_peek_binary_changes` returns them.
 * Pure: bytes in, typed messages out. Only what change capture needs is kept:
 * transaction bounds (Begin/Commit), relation shapes, and row changes with their
 * values in Postgres's text output format.
 *
 * Layout (all integers big-endian): see "Logical Replication Message Formats" in
 * the Postgres documentation.
 */

/** One column value in a tuple: NULL, an unchanged TOASTed value (not sent), or its text. */
export type TupleValue = { kind: 'null' } | { kind: 'unchanged' } | { kind: 'text'; text: string };

export interface RelationColumn { readonly name: string; readonly typeOid: number; readonly isKey: boolean }

export type PgOutputMessage =
  | { type: 'begin'; finalLsn: bigint; commitTime: Date; xid: number }
  | { type: 'commit'; commitLsn: bigint; endLsn: bigint; commitTime: Date }
  | { type: 'relation'; relationId: number; schema: string; name: string; columns: RelationColumn[] }
  | { type: 'insert'; relationId: number; after: TupleValue[] }
  | { type: 'update'; relationId: number; before: TupleValue[] | null; after: TupleValue[] }
  | { type: 'delete'; relationId: number; before: TupleValue[] }
  | { type: 'truncate'; relationIds: number[] }
  | { type: 'other'; tag: string };

/** Microseconds between 1970-01-01 and Postgres's epoch 2000-01-01. */
const PG_EPOCH_US = 946_684_800_000_000n;

class Reader {
  private at = 0;
  constructor(private readonly buf: Buffer) {}
  byte(): string { return String.fromCharCode(this.buf[this.at++]); }
  int8(): number { return this.buf.readInt8(this.at++); }
  int16(): number { const v = this.buf.readInt16BE(this.at); this.at += 2; return v; }
  int32(): number { const v = this.buf.readInt32BE(this.at); this.at += 4; return v; }
  uint32(): number { const v = this.buf.readUInt32BE(this.at); this.at += 4; return v; }
  uint64(): bigint { const v = this.buf.readBigUInt64BE(this.at); this.at += 8; return v; }
  int64(): bigint { const v = this.buf.readBigInt64BE(this.at); this.at += 8; return v; }
  time(): Date { return new Date(Number((this.int64() + PG_EPOCH_US) / 1000n)); }
  cstring(): string {
    const end = this.buf.indexOf(0, this.at);
    if (end < 0) throw new Error('pgoutput: unterminated string');
    const s = this.buf.toString('utf8', this.at, end);
    this.at = end + 1;
    return s;
  }
  bytes(n: number): string { const s = this.buf.toString('utf8', this.at, this.at + n); this.at += n; return s; }
  tuple(): TupleValue[] {
    const n = this.int16();
    const out: TupleValue[] = [];
    for (let i = 0; i < n; i++) {
      const kind = this.byte();
      if (kind === 'n') out.push({ kind: 'null' });
      else if (kind === 'u') out.push({ kind: 'unchanged' });
      else if (kind === 't') out.push({ kind: 'text', text: this.bytes(this.int32()) });
      else throw new Error(`pgoutput: unknown tuple value kind ${JSON.stringify(kind)}`);
    }
    return out;
  }
}

export function decodePgOutput(data: Buffer): PgOutputMessage {
  const r = new Reader(data);
  const tag = r.byte();
  switch (tag) {
    case 'B': return { type: 'begin', finalLsn: r.uint64(), commitTime: r.time(), xid: r.uint32() };
    case 'C': { r.int8(); return { type: 'commit', commitLsn: r.uint64(), endLsn: r.uint64(), commitTime: r.time() }; }
    case 'R': {
      const relationId = r.uint32();
      const schema = r.cstring();
      const name = r.cstring();
      r.int8(); // replica identity setting
      const n = r.int16();
      const columns: RelationColumn[] = [];
      for (let i = 0; i < n; i++) {
        const flags = r.int8();
        const colName = r.cstring();
        const typeOid = r.uint32();
        r.int32(); // type modifier
        columns.push({ name: colName, typeOid, isKey: (flags & 1) === 1 });
      }
      return { type: 'relation', relationId, schema, name, columns };
    }
    case 'I': { const relationId = r.uint32(); r.byte(); return { type: 'insert', relationId, after: r.tuple() }; }
    case 'U': {
      const relationId = r.uint32();
      let marker = r.byte();
      let before: TupleValue[] | null = null;
      if (marker === 'K' || marker === 'O') { before = r.tuple(); marker = r.byte(); }
      if (marker !== 'N') throw new Error(`pgoutput: update without a new tuple (${JSON.stringify(marker)})`);
      return { type: 'update', relationId, before, after: r.tuple() };
    }
    case 'D': { const relationId = r.uint32(); r.byte(); return { type: 'delete', relationId, before: r.tuple() }; }
    case 'T': {
      const n = r.int32();
      r.int8();
      return { type: 'truncate', relationIds: Array.from({ length: n }, () => r.uint32()) };
    }
    default: return { type: 'other', tag };
  }
}

/** `16/B374D848` (pg_lsn text) as a number, and back. */
export function parseLsn(text: string): bigint {
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text);
  if (!m) throw new Error(`not an LSN: ${JSON.stringify(text)}`);
  return (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`);
}

export function formatLsn(lsn: bigint): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

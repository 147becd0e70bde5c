/**
 * kafkajs reads only uncompressed and gzip record batches: a topic written with
 * Snappy, LZ4 or ZSTD (a producer's `compression.type`, or a topic's, which makes
 * the broker recompress whatever it is sent) crashed the consumer with "LZ4
 * compression not implemented", retried as if the brokers were away and exited 3
 * after the reconnect limit. These register the three codecs, in pure JavaScript
 * (no install scripts, which npm may skip): kafkajs-snappy (snappyjs, with the
 * xerial framing Java producers use), lz4js (LZ4 frames) and fzstd (decompression;
 * dualrun itself produces uncompressed batches).
 */
import { createRequire } from 'node:module';
import kafkajs from 'kafkajs';
import { decompress as zstdDecompress } from 'fzstd';

const require = createRequire(import.meta.url);
const { CompressionCodecs, CompressionTypes } = kafkajs;

interface Codec { compress(encoder: { buffer: Buffer }): Promise<Buffer>; decompress(buffer: Buffer): Promise<Buffer> }
interface Lz4 { compress(src: Uint8Array): Uint8Array; decompress(src: Uint8Array): Uint8Array }

let registered = false;

/** Once per process, before the first consumer reads a batch. */
export function registerKafkaCodecs(): void {
  if (registered) return;
  registered = true;
  const snappy = require('kafkajs-snappy') as () => Codec;
  const lz4 = require('lz4js') as Lz4;
  const codecs = CompressionCodecs as unknown as Record<number, () => Codec>;
  codecs[CompressionTypes.Snappy] = snappy;
  codecs[CompressionTypes.LZ4] = () => ({
    compress: async (encoder) => asBuffer(lz4.compress(encoder.buffer)),
    decompress: async (buffer) => asBuffer(lz4.decompress(buffer)),
  });
  codecs[CompressionTypes.ZSTD] = () => ({
    compress: async () => { throw new Error('dualrun does not produce ZSTD batches'); },
    decompress: async (buffer) => asBuffer(zstdDecompress(buffer)),
  });
}

function asBuffer(u: Uint8Array): Buffer {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

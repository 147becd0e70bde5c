/**
 * The stream source of a dataset dualrun streams itself. An adopted stream
 * output (written by an external pipeline) has none: asking for it is a
 * config error naming the dataset, so a worker never starts on it by accident.
 */
import { DualrunError } from '../errors.ts';
import type { DatasetConfig, StreamSource } from './types.ts';

export function requireStreamSource(ds: DatasetConfig): StreamSource {
  if (ds.stream.adopted || !ds.stream.source) {
    throw new DualrunError('DUALRUN_CONFIG_INVALID', `datasets.${ds.name}.stream: the stream output ${ds.stream.output.text} is adopted (written outside dualrun); dualrun does not stream or capture it`);
  }
  return ds.stream.source;
}

/** Splits dataset names into those dualrun streams and the adopted ones (skipped with a note). */
export function partitionAdopted(datasets: readonly DatasetConfig[]): { own: DatasetConfig[]; adopted: DatasetConfig[] } {
  return { own: datasets.filter((d) => !d.stream.adopted), adopted: datasets.filter((d) => d.stream.adopted) };
}

export const ADOPTED_NOTE = 'stream output is adopted (written by an external pipeline): nothing to run';

/**
 * The stream source of a dataset dualrun streams itself. An adopted stream
 * output (written by an external pipeline) has none: asking for it is a
 * config error naming the dataset, so a worker never starts on it by accident.
 */
import { DualrunError } from '../errors.ts';
import type { DatasetConfig, StreamSource } from './types.ts';
import type { Runtime } from '../runtime.ts';

export function requireStreamSource(ds: DatasetConfig): StreamSource {
  if (ds.stream.adopted || !ds.stream.source) {
    throw new DualrunError('DUALRUN_CONFIG_INVALID', `datasets.${ds.name}.stream: the stream output ${ds.stream.output.text} is adopted (written outside dualrun); dualrun does not stream or capture it`);
  }
  return ds.stream.source;
}

export const ADOPTED_NOTE = 'stream output is adopted (written by an external pipeline): nothing to run';

/** The asked-for datasets (default: all) that dualrun streams itself; adopted ones are noted on stderr and left out. */
export function streamedDatasets(rt: Runtime, asked: readonly string[] | undefined): string[] {
  const all = (asked ?? Object.keys(rt.config.datasets)).map((n) => rt.dataset(n));
  const adopted = all.filter((d) => d.stream.adopted).map((d) => d.name);
  if (adopted.length > 0) rt.log.warn({ datasets: adopted }, `not streamed: ${ADOPTED_NOTE}`);
  return all.filter((d) => !d.stream.adopted).map((d) => d.name);
}

/** The asked-for datasets (default: all) whose stream output is adopted. */
export function adoptedDatasets(rt: Runtime, asked: readonly string[] | undefined): string[] {
  return (asked ?? Object.keys(rt.config.datasets)).filter((n) => rt.dataset(n).stream.adopted);
}

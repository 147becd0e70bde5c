/** Where each dataset's stream stands (stored positions per partition), e.g. for the log of an interrupted run. */
import type { Runtime } from '../src/core/runtime.ts';
import { readPositions } from './positions.ts';
import { sourceName } from './replay.ts';
import { streamDatabase } from './stream-database.ts';

export interface StoredPositions {
  readonly dataset: string;
  readonly source: string;
  /** Partition → position (`offset`, or `tx_id.id` for the changelog). */
  readonly partitions: Record<string, string>;
}

export async function storedPositions(rt: Runtime, datasets: readonly string[]): Promise<StoredPositions[]> {
  const out: StoredPositions[] = [];
  for (const name of datasets) {
    const ds = rt.dataset(name);
    const source = sourceName(rt, ds);
    const positions = await readPositions(await streamDatabase(rt, ds), ds.name, source);
    const partitions = Object.fromEntries([...positions].sort(([a], [b]) => a - b)
      .map(([p, pos]) => [String(p), pos.minor === 0n ? pos.major.toString() : `${pos.major}.${pos.minor}`]));
    out.push({ dataset: name, source, partitions });
  }
  return out;
}

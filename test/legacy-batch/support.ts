/** Config files and source tables for the legacy-batch tests. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface DatasetSpec {
  batch: Record<string, unknown>;
  window?: { column: string; grain?: 'day' | 'hour'; timezone?: string } | null;
  key?: string[];
  reconcile?: Record<string, unknown>;
}

/** A temp folder with dualrun.yaml (JSON is valid YAML) and any extra files. */
export function writeProject(databaseUrl: string, datasets: Record<string, DatasetSpec>, files: Record<string, string> = {}, extra: Record<string, unknown> = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-batch-'));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  const config = {
    database: { url: databaseUrl, poolSize: 4 },
    ...extra,
    datasets: Object.fromEntries(Object.entries(datasets).map(([name, d]) => [name, {
      key: d.key ?? ['id'],
      ...(d.window === null ? {} : { window: d.window ?? { column: 'day' } }),
      batch: d.batch,
      stream: { output: `public.${name}_stream`, source: { table: `public.${name}_src` } },
      ...(d.reconcile ? { reconcile: d.reconcile } : {}),
    }])),
  };
  fs.writeFileSync(path.join(dir, 'dualrun.yaml'), JSON.stringify(config, null, 2));
  return dir;
}

/** Source table `public.events` with `perDay` rows on each of the given days, and an empty output. */
export const EVENTS_SQL = `
CREATE TABLE public.events (id bigint PRIMARY KEY, day date NOT NULL, amount numeric(12,2), at timestamptz, note text);
CREATE TABLE public.events_batch (id bigint PRIMARY KEY, day date NOT NULL, amount numeric(12,2), at timestamptz, note text, loaded_at timestamptz);
`;

export function seedEvents(days: string[], perDay: number): string {
  return days.map((d, i) => `INSERT INTO public.events
    SELECT ${i} * 1000000 + g, DATE '${d}', round((g * 1.37)::numeric, 2), TIMESTAMPTZ '${d} 00:00:00.123456+00' + g * interval '1 second', 'n' || g
    FROM generate_series(1, ${perDay}) g;`).join('\n');
}

/**
 * `npm run bench`: runs every benchmark module against one dedicated Postgres
 * (and Kafka when KAFKA_BROKERS is set) and prints each figure beside its ceiling.
 *   npm run bench                    all
 *   npm run bench -- reconcile       only modules whose name contains "reconcile"
 *   BENCH_SCALE=quick npm run bench  ~10x smaller, for a smoke run
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { acquireEmbeddedPostgres } from '../src/core/db/embedded-postgres.ts';
import type { BenchFigure, BenchHarness, BenchModule } from './harness.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const filter = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const modules = fs.readdirSync(here).filter((f) => f.endsWith('.bench.ts')).filter((f) => filter.length === 0 || filter.some((x) => f.includes(x))).sort();

let dir: string | undefined;
let url = process.env.BENCH_DATABASE_URL;
let release: (() => Promise<void>) | undefined;
if (!url) {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-bench-pg-'));
  fs.chmodSync(dir, 0o755);
  // Default server settings, as users have them: whatever the product needs (work_mem, JIT,
  // planner settings) it must set per session itself (issue 12).
  const h = await acquireEmbeddedPostgres({ dir });
  url = h.url;
  release = h.release;
}
const harness: BenchHarness = {
  pgUrl: url,
  kafkaBrokers: (process.env.KAFKA_BROKERS ?? '').split(',').map((s) => s.trim()).filter(Boolean),
  scale: process.env.BENCH_SCALE === 'quick' ? 'quick' : 'full',
  note: (t) => process.stderr.write(`  ${t}\n`),
};

const figures: BenchFigure[] = [];
let failed = false;
try {
  for (const m of modules) {
    process.stderr.write(`bench ${m} (${harness.scale})\n`);
    const mod = (await import(path.join(here, m))) as { default: BenchModule };
    try {
      figures.push(...(await mod.default(harness)));
    } catch (e) {
      failed = true;
      process.stderr.write(`  ${m} failed: ${(e as Error).stack}\n`);
    }
  }
} finally {
  await release?.();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}

const fmt = (n: number) => (Math.abs(n) >= 100 ? n.toFixed(0) : n.toFixed(2));
process.stdout.write(`\ndualrun bench — ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, one run (ratios are the figure; absolute numbers vary with machine noise)\n\n`);
for (const f of figures) {
  process.stdout.write(`${f.pass ? 'ok  ' : 'MISS'} ${f.name}: ${fmt(f.value)} ${f.unit} vs ${f.ceilingName} ${fmt(f.ceiling)} ${f.unit} -> ratio ${f.ratio.toFixed(3)} (target ${f.target})${f.detail ? `\n       ${f.detail}` : ''}\n`);
}
fs.mkdirSync(path.join(here, '..', '.cache'), { recursive: true });
fs.writeFileSync(path.join(here, '..', '.cache', 'bench-results.json'), JSON.stringify(figures, null, 2));
process.exit(failed ? 3 : 0);

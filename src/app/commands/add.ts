/**
 * `dualrun add <dataset> --from-table schema.table`: scaffolds a dataset from a
 * source table's catalog (src/core/scaffold/dataset-scaffold.ts) into dualrun.yaml
 * and beside it; `dualrun migrate` then creates the two output tables.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { writeOutputFile, writeUserFile } from '../../core/write-output-file.ts';
import { DualrunError } from '../../core/errors.ts';
import { parseTableRef, type TableRef } from '../../core/identifiers.ts';
import { findConfigFile, parseConfigText } from '../../core/config/load-config.ts';
import { compileConfig } from '../../core/config/compile-config.ts';
import type { DualrunConfig } from '../../core/config/types.ts';
import type { Runtime } from '../../core/runtime.ts';
import { caseHint, readTableCatalog } from '../../core/db/table-catalog.ts';
import { describeTarget } from '../../core/db/connect.ts';
import { scaffoldDataset, type DatasetScaffold } from '../../core/scaffold/dataset-scaffold.ts';
import { hasDataset, withDataset } from '../../core/scaffold/config-document.ts';
import { json, out, runCommand, type GlobalOptions } from './command-runner.ts';

interface AddOptions { fromTable: string; key?: string; windowColumn?: string; window?: boolean; grain: string; outputSchema?: string; force?: boolean; format: string }

const DATASET_NAME = /^[a-z][a-z0-9_]{0,62}$/;
const IDENT = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;

/**
 * A dualrun.yaml written as JSON (valid YAML, and what a generator emits): a block-style entry
 * cannot go inside its flow mapping, so it is edited as JSON, and stays JSON.
 */
function isJsonText(text: string | null): boolean {
  if (text === null || !text.trimStart().startsWith('{')) return false;
  try {
    return typeof JSON.parse(text) === 'object';
  } catch {
    return false;
  }
}

/** dualrun.json has no comments to keep: the entry is added to the parsed object. */
function withDatasetJson(text: string | null, name: string, entry: Record<string, unknown>): string {
  const cfg = (text ? JSON.parse(text) : { database: { url: '${DATABASE_URL:-}' } }) as { datasets?: Record<string, unknown> };
  cfg.datasets = { ...(cfg.datasets ?? {}), [name]: entry };
  return `${JSON.stringify(cfg, null, 2)}\n`;
}

export function registerAdd(program: Command): void {
  program
    .command('add <dataset>')
    .description('scaffold a dataset from a source table: dualrun.yaml entry, batch query, identity transform, record JSON Schema')
    .requiredOption('--from-table <schema.table>', 'the source table (read from the toolkit database)')
    .option('--key <columns>', 'key columns, comma-separated (default: the primary key)')
    .option('--window-column <column>', 'window column (default: a date/timestamp column, preferring one set at insert)')
    .option('--no-window', 'compare the whole table, no windows')
    .option('--grain <grain>', 'window grain: day|hour', 'day')
    .option('--output-schema <schema>', 'schema for the outputs and serving view (default: the source table\'s)')
    .option('--force', 'replace an existing dataset entry and overwrite its files')
    .option('--format <format>', 'text|json', 'text')
    .addHelpText('after', '\nNothing is overwritten without --force. Then `dualrun migrate` creates the outputs.\n\nExample:\n  $ dualrun add customers --from-table shop.customers && dualrun migrate')
    .action(async (dataset: string, opts: AddOptions, cmd: Command) => runCommand(cmd, async (rt) => {
      const table = checkArguments(dataset, opts);
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const configPath = findConfigFile({ configPath: g.config }).path ?? path.resolve(g.config ?? 'dualrun.yaml');
      const existingText = fs.existsSync(configPath) ? fs.readFileSync(configPath, 'utf8') : null;
      if (hasDataset(existingText, dataset, configPath) && !opts.force) throw new DualrunError('DUALRUN_USAGE', `dataset ${dataset} is already in ${configPath} (use --force to replace it)`);
      // Only the catalog is read: no toolkit schema is created for this.
      const db = await rt.pool(null);
      const cat = await readTableCatalog(db, table);
      // A mixed-case schema written in lower case (`sales.orders` for "Sales".orders) is the usual miss: name the table that is there.
      if (!cat) throw new DualrunError('DUALRUN_USAGE', `table ${table.text} not found in ${describeTarget(await rt.databaseUrl())}${await caseHint(db, table)}`);
      if (cat.kind !== 'r' && cat.kind !== 'p') rt.log.warn({ table: table.text, kind: cat.kind }, 'the source is not a plain table: built-in change capture needs a table (use stream.source.topic or an adopted stream instead)');
      const s = scaffoldDataset(cat, { dataset, key: opts.key?.split(',').map((k) => k.trim()), window: opts.window === false ? false : opts.windowColumn, grain: opts.grain as 'day' | 'hour', outputSchema: opts.outputSchema });
      const written = writeScaffold(configPath, existingText, s, dataset, table.text, opts.force ?? false);
      const stale = await missingSources(rt, written, dataset);
      const summary = { dataset, config: configPath, key: s.entry.key as string[], window: (s.entry.window as { column: string } | undefined)?.column ?? null, files: Object.keys(s.files), outputs: { batch: s.outputs.batch.text, stream: s.outputs.stream.text, serve: s.outputs.serve.text } };
      if (opts.format === 'json') json(summary);
      else {
        out(`added dataset ${dataset} to ${configPath}: key (${summary.key.join(', ')}), ${summary.window ? `${opts.grain} windows on ${summary.window}` : 'whole table'}`);
        out(`wrote ${summary.files.join(', ')}`);
        out(`next: dualrun migrate   (creates ${summary.outputs.batch} and ${summary.outputs.stream} in the shape of ${table.text})`);
        for (const [name, src] of stale) out(`note: dataset ${name} reads ${src}, which does not exist yet: dualrun capture skips it (with a warning) until it does; remove it from ${path.basename(configPath)} if you do not need it`);
      }
    }, { configOptional: true, autoMigrate: false }));
}

function checkArguments(dataset: string, opts: AddOptions): TableRef {
  if (!DATASET_NAME.test(dataset)) throw new DualrunError('DUALRUN_USAGE', `dataset name ${JSON.stringify(dataset)}: expected lower-case letters, digits and _ (starting with a letter)`);
  const table = parseTableRef(opts.fromTable);
  if (!table) throw new DualrunError('DUALRUN_USAGE', `--from-table ${JSON.stringify(opts.fromTable)}: expected schema.table made of identifiers`);
  if (opts.outputSchema !== undefined && !IDENT.test(opts.outputSchema)) throw new DualrunError('DUALRUN_USAGE', `--output-schema ${JSON.stringify(opts.outputSchema)}: expected an identifier (letters, digits, _ and $)`);
  if (!['day', 'hour'].includes(opts.grain)) throw new DualrunError('DUALRUN_USAGE', `--grain: expected day or hour, got ${JSON.stringify(opts.grain)}`);
  return table;
}

/** Other datasets whose capture source table is not there (e.g. init's example `orders`): dataset -> table. */
async function missingSources(rt: Runtime, config: DualrunConfig, except: string): Promise<[string, string][]> {
  const out: [string, string][] = [];
  for (const ds of Object.values(config.datasets)) {
    const src = ds.stream.source;
    if (ds.name === except || !src || src.kind !== 'table') continue;
    if (!(await readTableCatalog(await rt.pool(null), src.table))) out.push([ds.name, src.table.text]);
  }
  return out;
}

/** The files first, then the config, which must compile before it atomically replaces the old one. */
function writeScaffold(configPath: string, existingText: string | null, s: DatasetScaffold, dataset: string, source: string, force: boolean): DualrunConfig {
  const baseDir = path.dirname(configPath);
  const existing = Object.keys(s.files).filter((f) => fs.existsSync(path.join(baseDir, f)));
  if (existing.length > 0 && !force) throw new DualrunError('DUALRUN_USAGE', `refusing to overwrite ${existing.join(', ')} in ${baseDir} (use --force)`);
  const heading = `${dataset}: scaffolded by \`dualrun add ${dataset} --from-table ${source}\`; review, then \`dualrun migrate\``;
  const text = configPath.endsWith('.json') || isJsonText(existingText)
    ? withDatasetJson(existingText, dataset, s.entry)
    : withDataset(existingText, { name: dataset, entry: s.entry, comments: s.comments, heading }, configPath);
  for (const [f, content] of Object.entries(s.files)) {
    writeUserFile(path.join(baseDir, f), (to) => fs.writeFileSync(to, content));
  }
  const compiled = compileConfig(parseConfigText(text, configPath), { path: configPath });
  // Atomically, and through a symlinked dualrun.yaml to its target (a rename over the link replaced it).
  writeOutputFile(configPath, text);
  return compiled;
}

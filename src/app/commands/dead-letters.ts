/** `dualrun dead-letters list|show|retry|discard <dataset>` (docs/dead-letters.md). */
import type { Command } from 'commander';
import { inTransaction } from '../../core/db/connect.ts';
import { DualrunError, EXIT } from '../../core/errors.ts';
import { formatTable, printable as p } from '../../core/format-table.ts';
import { stringifyExact } from '../../core/exact-json.ts';
import type { Runtime } from '../../core/runtime.ts';
import {
  assertDeadLettersExist, DEAD_LETTER_STAGES, DEAD_LETTER_STATUSES, discardDeadLetters, listDeadLetters, parseTimeOption, showDeadLetter, type DeadLetterFilter,
} from '../../../streaming/dead-letter-store.ts';
import { retryDeadLetters } from '../../../streaming/dead-letter-retry.ts';
import { streamDatabase } from '../../../streaming/stream-database.ts';
import type { PipelineStage } from '../../../streaming/change-event.ts';
import { json, out, runCommand } from './command-runner.ts';

interface FilterFlags { id?: string[]; stage?: string; reason?: string; since?: string; until?: string; all?: boolean; format: string }

function checkFormat(format: string): void {
  if (format !== 'text' && format !== 'json') throw new DualrunError('DUALRUN_USAGE', `--format: expected text or json, got ${JSON.stringify(format)}`);
}

function filterOf(f: FilterFlags, extra: Partial<DeadLetterFilter> = {}): DeadLetterFilter {
  if (f.stage !== undefined && !(DEAD_LETTER_STAGES as readonly string[]).includes(f.stage)) {
    throw new DualrunError('DUALRUN_USAGE', `--stage: expected one of ${DEAD_LETTER_STAGES.join(', ')}, got ${JSON.stringify(f.stage)}`);
  }
  const ids = f.id?.flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
  for (const id of ids ?? []) if (!/^\d{1,19}$/.test(id)) throw new DualrunError('DUALRUN_USAGE', `--id: ${JSON.stringify(id)} is not a dead-letter id`);
  return { ids, stage: f.stage as PipelineStage | undefined, reason: f.reason, since: parseTimeOption('--since', f.since), until: parseTimeOption('--until', f.until), ...extra };
}

/** retry and discard act on a selection: at least one filter, or --all. */
export function requireSelection(verb: string, f: FilterFlags): void {
  if (f.all || f.id?.length || f.stage || f.reason || f.since || f.until) return;
  throw new DualrunError('DUALRUN_USAGE', `${verb} needs a selection: --id, --stage, --reason, --since/--until, or --all for every open dead letter`);
}

/** discard's --reason is the audit reason, so there the reason filter is --match. */
function withFilters(cmd: Command, selection: boolean, reasonFilter: '--reason' | '--match' = '--reason'): Command {
  cmd.option('--id <ids...>', 'only these dead-letter ids (space or comma separated)')
    .option('--stage <stage>', `only this stage: ${DEAD_LETTER_STAGES.join('|')}`)
    .option(`${reasonFilter} <text>`, 'only reasons containing this text (case-insensitive)')
    .option('--since <time>', 'dead-lettered at or after: ISO date/time or a duration ago (24h, 7d)')
    .option('--until <time>', 'dead-lettered before: ISO date/time or a duration ago')
    .option('--format <format>', 'text|json', 'text');
  if (selection) cmd.option('--all', 'every open dead letter of the dataset');
  return cmd;
}

const actorOf = (a?: string) => a?.trim() || process.env.USER?.trim() || 'unknown';

async function dbFor(rt: Runtime, dataset: string) {
  const ds = rt.dataset(dataset);
  return { ds, db: await streamDatabase(rt, ds) };
}

export function registerDeadLetters(program: Command): void {
  const dl = program.command('dead-letters').description('records the streaming path could not apply: list, inspect, retry after a fix, or discard (audited)');

  withFilters(dl.command('list <dataset>').description('dead letters of a dataset, oldest first (default: open ones)'), false)
    .option('--status <status>', `${DEAD_LETTER_STATUSES.join('|')}|all`, 'open')
    .option('--limit <n>', 'at most this many rows', '100')
    .addHelpText('after', '\nExamples:\n  $ dualrun dead-letters list orders --stage validate --since 24h\n  $ dualrun dead-letters list orders --status all --format json')
    .action(async (dataset: string, opts: FilterFlags & { status: string; limit: string }, cmd: Command) => runCommand(cmd, async (rt) => {
      checkFormat(opts.format);
      if (opts.status !== 'all' && !(DEAD_LETTER_STATUSES as readonly string[]).includes(opts.status)) {
        throw new DualrunError('DUALRUN_USAGE', `--status: expected one of ${DEAD_LETTER_STATUSES.join(', ')}, all; got ${JSON.stringify(opts.status)}`);
      }
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new DualrunError('DUALRUN_USAGE', `--limit: expected a positive integer, got ${JSON.stringify(opts.limit)}`);
      const { ds, db } = await dbFor(rt, dataset);
      const r = await listDeadLetters(db, ds.name, filterOf(opts, { status: opts.status as DeadLetterFilter['status'], limit }));
      if (opts.format === 'json') return json({ dataset: ds.name, total: r.total, letters: r.letters });
      if (r.total === 0) return out(`${ds.name}: no ${opts.status === 'all' ? '' : `${opts.status} `}dead letters match`);
      out(formatTable(['ID', 'AT', 'STAGE', 'STATUS', 'PARTITION', 'POSITION', 'KEY', 'REASON'],
        r.letters.map((d) => [d.id, d.at, d.stage, d.status, d.partition, d.position, d.recordKey, d.reason.length > 80 ? `${d.reason.slice(0, 77)}...` : d.reason])));
      if (r.total > r.letters.length) out(`(${r.letters.length} of ${r.total} shown; narrow the filters or raise --limit)`);
    }));

  dl.command('show <dataset> <id>').description('one dead letter in full: payload, error, the actions taken on it')
    .option('--format <format>', 'text|json', 'text')
    .addHelpText('after', '\nExample:\n  $ dualrun dead-letters show orders 42')
    .action(async (dataset: string, id: string, opts: { format: string }, cmd: Command) => runCommand(cmd, async (rt) => {
      checkFormat(opts.format);
      if (!/^\d{1,19}$/.test(id)) throw new DualrunError('DUALRUN_USAGE', `${JSON.stringify(id)} is not a dead-letter id`);
      const { ds, db } = await dbFor(rt, dataset);
      const d = await showDeadLetter(db, ds.name, id);
      if (opts.format === 'json') return json(d);
      // Every value below may come from the source or a user: shown with control characters escaped.
      out(`dead letter #${d.id} of ${d.dataset}: ${d.status}${d.resolvedBy ? ` by ${p(d.resolvedBy)} at ${d.resolvedAt}` : ''}${d.resolution ? ` (${p(d.resolution)})` : ''}`);
      out(`  stage ${d.stage} at ${d.at}${d.retries ? `, ${d.retries} failed retries (last ${d.lastRetryAt})` : ''}`);
      out(`  reason: ${p(d.reason)}`);
      out(`  source ${p(d.source)} partition ${d.partition} position ${d.position}${d.recordTs ? `, record time ${d.recordTs}` : ''}`);
      out(`  key: ${d.recordKey === null ? '-' : p(d.recordKey)}${d.messageKey !== null ? `  message key: ${p(d.messageKey)}` : ''}`);
      out(`  payload (${d.payloadEncoding ?? 'none'}): ${d.payload === null ? 'null (tombstone)' : p(d.payload)}`);
      if (d.error) out(`  error: ${p(stringifyExact(d.error))}`);
      for (const a of d.actions) out(`  ${a.at} ${a.action} by ${p(a.actor)}${a.reason ? `: ${p(a.reason)}` : ''}`);
    }));

  withFilters(dl.command('retry <dataset>').description('apply the chosen open dead letters through the current decoder, schema and transform (exactly once)'), true)
    .option('--actor <name>', 'who (default: $USER)')
    .option('--batch-size <n>', 'dead letters per transaction', '500')
    .addHelpText('after', '\nExit codes: 0 every chosen record applied, 1 some failed again (they stay open with the new reason),\n2 usage or config error, 3 runtime failure (database unreachable).\n\nExample:\n  $ dualrun dead-letters retry orders --stage transform --since 24h')
    .action(async (dataset: string, opts: FilterFlags & { actor?: string; batchSize: string }, cmd: Command) => runCommand(cmd, async (rt) => {
      checkFormat(opts.format);
      requireSelection('retry', opts);
      const batchSize = Number(opts.batchSize);
      if (!Number.isInteger(batchSize) || batchSize < 1) throw new DualrunError('DUALRUN_USAGE', `--batch-size: expected a positive integer, got ${JSON.stringify(opts.batchSize)}`);
      const { ds, db } = await dbFor(rt, dataset);
      const filter = filterOf(opts);
      await assertDeadLettersExist(db, ds.name, filter.ids);
      const r = await retryDeadLetters(rt, ds, filter, {
        actor: actorOf(opts.actor), batchSize, signal: rt.signal,
        onChunk: (c) => rt.log.info({ dataset: ds.name, retried: c.retried.length, failed: c.failed.length }, 'dead letters retried'),
      });
      if (opts.format === 'json') json(r);
      else {
        out(`${ds.name}: ${r.retried.length} retried and applied, ${r.failed.length} failed again`);
        for (const f of r.failed) out(`  #${f.id} ${f.stage}: ${p(f.reason)}`);
      }
      return r.failed.length > 0 ? EXIT.checkFailed : EXIT.ok;
    }));

  withFilters(dl.command('discard <dataset>').description('give up on the chosen open dead letters (kept, marked discarded, audited)'), true, '--match')
    .requiredOption('--actor <name>', 'who (recorded in the audit)')
    .requiredOption('--reason <text>', 'why (recorded in the audit)')
    .addHelpText('after', '\nExample:\n  $ dualrun dead-letters discard orders --match "test order" --actor ana --reason "test data from the load test"')
    .action(async (dataset: string, opts: FilterFlags & { actor: string; match?: string }, cmd: Command) => runCommand(cmd, async (rt) => {
      checkFormat(opts.format);
      const why = opts.reason?.trim();
      const actor = opts.actor?.trim();
      if (!actor) throw new DualrunError('DUALRUN_USAGE', 'discard needs an --actor (recorded in the audit)');
      if (!why) throw new DualrunError('DUALRUN_USAGE', 'discard needs a --reason (recorded in the audit)');
      const flags = { ...opts, reason: opts.match };
      requireSelection('discard', flags);
      const { ds, db } = await dbFor(rt, dataset);
      const filter = filterOf(flags);
      await assertDeadLettersExist(db, ds.name, filter.ids);
      const r = await inTransaction(db, (c) => discardDeadLetters(c, ds.name, filter, { actor, reason: why }));
      if (opts.format === 'json') return json({ dataset: ds.name, ...r });
      out(`${ds.name}: ${r.discarded.length} dead letters discarded by ${p(actor)}${r.discarded.length ? ` (ids ${r.discarded.join(', ')})` : ''}`);
    }));
}

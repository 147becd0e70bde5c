import type { Command } from 'commander';
import { DualrunError } from '../../core/errors.ts';
import { formatTable } from '../../core/format-table.ts';
import { isStage, STAGES, type Stage } from '../../core/stages.ts';
import { cutoverStatus } from '../../core/cutover/cutover-status.ts';
import { promote, rollback, type StageChange } from '../../core/cutover/stage-change.ts';
import { readHistory } from '../../core/cutover/audit-log.ts';
import type { GateResult } from '../../core/cutover/stage-gate.ts';
import { json, out, runCommand } from './command-runner.ts';

interface ChangeFlags { reason: string; actor?: string; force?: boolean; to?: string; from?: string; format: string }

function checkFormat(format: string): void {
  if (format !== 'text' && format !== 'json') throw new DualrunError('DUALRUN_USAGE', `--format: expected text or json, got ${JSON.stringify(format)}`);
}

function stageOption(name: string, value: string | undefined): Stage | undefined {
  if (value === undefined) return undefined;
  if (!isStage(value)) throw new DualrunError('DUALRUN_USAGE', `${name}: expected one of ${STAGES.join(', ')}, got ${JSON.stringify(value)}`);
  return value;
}

const FROM_HELP = 'only if the dataset is in this stage now (guards against a concurrent change; a mismatch exits 1 with DUALRUN_CONFLICT)';

function printChange(c: StageChange, format: string): void {
  if (format === 'json') return json(c);
  const how = c.forced ? ' (FORCED: gate bypassed)' : '';
  out(`${c.dataset}: ${c.from} → ${c.to}${how}; version ${c.version}; audit #${c.audit.id}`);
  out(c.serving ? `serving view now reads ${c.serving}` : 'no cutover.serve configured: readers pick the table via readServing()');
  if (c.gate && c.gate.evidence.length) out(`evidence: reconciliations ${c.gate.evidence.join(', ')}`);
  if (c.forced && c.gate) {
    out(`gate was not met: ${c.gate.missing.join('; ')}`);
    for (const line of explainGate(c.gate)) out(`  ${line}`);
  }
  for (const w of c.warnings) out(`warning: ${w}`);
}

function printRefusal(e: DualrunError): void {
  const g = e.details.gate as GateResult;
  out(`${e.details.dataset}: ${g.from} → ${g.to} refused (${Math.min(g.clean, g.required)}/${g.required} clean)`);
  for (const line of explainGate(g)) out(`  ${line}`);
  for (const m of g.missing) out(`  missing: ${m}`);
  out(`  nothing was changed (decision #${String(e.details.decision ?? '?')} recorded); see docs/cutover.md (runbook: on refusal)`);
}

/** Which windows counted, which did not and why, and what broke the streak. */
function explainGate(g: Pick<GateResult, 'counted' | 'notCounted' | 'breaker'> & { gaps?: GateResult['gaps'] }): string[] {
  const lines = g.counted.map((c) => `counted: ${c.window ?? 'whole table'} (reconciliation #${c.id}, judged ${c.judgedAt})`);
  for (const gap of g.gaps ?? []) lines.push(`never judged: the windows between ${gap.older} and ${gap.newer} (a gap does not break the streak; reconcile them to be sure)`);
  for (const n of g.notCounted) lines.push(`not counted: ${n.window ?? `run #${n.id}`} (reconciliation #${n.id}): ${n.reason}`);
  if (g.breaker) lines.push(`streak broken by: ${g.breaker.verdict}${g.breaker.schemaDrift ? ' (schema drift)' : ''} on ${g.breaker.window ?? 'the whole table'} judged ${g.breaker.judgedAt} (${g.breaker.verdict === 'error' ? 'reconcile error' : 'reconciliation'} #${g.breaker.id})`);
  return lines;
}

export function registerCutover(program: Command): void {
  const cutover = program.command('cutover').description('per-dataset stages batch → shadow → streaming → streaming-only, gated, audited, reversible');

  cutover.command('status').description('stage, serving table and gate progress of every dataset').option('--format <format>', 'text|json', 'text')
    .addHelpText('after', '\nExamples:\n  $ dualrun cutover status\n  $ dualrun cutover status --format json | jq \'.[] | select(.next.ready)\'')
    .action(async (opts: { format: string }, cmd: Command) => runCommand(cmd, async (rt) => {
      checkFormat(opts.format);
      const rows = await cutoverStatus(rt);
      if (opts.format === 'json') return json(rows);
      if (rows.length === 0) return out(`no datasets in ${rt.config.path ?? 'config'}`);
      out(formatTable(['DATASET', 'STAGE', 'SERVING', 'NEXT', 'GATE', 'WHY NOT YET'], rows.map((r) => [
        r.dataset, r.stage, r.serving.view ? `${r.serving.view} → ${r.serving.table}` : r.serving.table,
        r.next?.stage ?? null,
        r.next ? `${r.next.progress ?? 'no evidence needed'}${r.next.ready ? ' (ready)' : ''}` : null,
        r.next && !r.next.ready ? r.next.missing.join('; ') : null,
      ])));
      // Which windows the gate counted, which it did not and why, and what broke the streak.
      for (const r of rows) {
        if (!r.next || r.next.rule === 'none') continue;
        const lines = explainGate(r.next);
        if (lines.length) out(`\n${r.dataset} → ${r.next.stage}:\n${lines.map((l) => `  ${l}`).join('\n')}`);
      }
    }));

  cutover.command('promote <dataset>').description('move one stage forward if the evidence gate holds')
    .requiredOption('--reason <text>', 'why (recorded in the audit)')
    .option('--actor <name>', 'who (default: $USER)')
    .option('--force', 'bypass the gate (recorded as forced)')
    .option('--from <stage>', FROM_HELP)
    .option('--format <format>', 'text|json', 'text')
    .addHelpText('after', '\nExit codes: 0 promoted, 1 the gate refused (nothing changed) or --from did not hold, 2 usage or config error,\n3 runtime failure (database unreachable, lock not granted in time).\n\nExamples:\n  $ dualrun cutover promote orders --reason "7 clean nights" --actor ana\n  $ dualrun cutover promote orders --from shadow --reason "nightly promotion"   # only if still in shadow')
    .action(async (dataset: string, opts: ChangeFlags, cmd: Command) => runCommand(cmd, async (rt) => {
      checkFormat(opts.format);
      const expectedStage = stageOption('--from', opts.from);
      const change = await promote(rt, dataset, { reason: opts.reason, actor: opts.actor, force: opts.force === true, expectedStage }).catch((e: unknown) => {
        // A refusal is the command's result (like a reconcile mismatch): say it on stdout too.
        if (opts.format === 'text' && e instanceof DualrunError && e.code === 'DUALRUN_GATE_REFUSED') printRefusal(e);
        throw e;
      });
      printChange(change, opts.format);
    }));

  cutover.command('rollback <dataset>').description('move back to an earlier stage (default: the previous one); always allowed')
    .option('--to <stage>', `target stage (${STAGES.join('|')})`)
    .requiredOption('--reason <text>', 'why (recorded in the audit)')
    .option('--actor <name>', 'who (default: $USER)')
    .option('--from <stage>', FROM_HELP)
    .option('--format <format>', 'text|json', 'text')
    .addHelpText('after', '\nExit codes: 0 rolled back, 1 --from did not hold (nothing changed), 2 usage or config error,\n3 runtime failure (database unreachable, lock not granted in time).\n\nExamples:\n  $ dualrun cutover rollback orders --reason "late rows in the stream output" --actor ana\n  $ dualrun cutover rollback orders --to batch --reason "stop the streaming path"')
    .action(async (dataset: string, opts: ChangeFlags, cmd: Command) => runCommand(cmd, async (rt) => {
      checkFormat(opts.format);
      const to = stageOption('--to', opts.to);
      const expectedStage = stageOption('--from', opts.from);
      printChange(await rollback(rt, dataset, { reason: opts.reason, actor: opts.actor, to, expectedStage }), opts.format);
    }));

  cutover.command('history <dataset>').description('the audit trail of a dataset').option('--format <format>', 'text|json', 'text')
    .addHelpText('after', '\nExample:\n  $ dualrun cutover history orders --format json')
    .action(async (dataset: string, opts: { format: string }, cmd: Command) => runCommand(cmd, async (rt) => {
      checkFormat(opts.format);
      const rows = await readHistory(await rt.db(), rt.dataset(dataset).name);
      if (opts.format === 'json') return json(rows);
      if (rows.length === 0) return out(`${dataset}: no stage changes yet (in batch)`);
      out(formatTable(['#', 'AT', 'ACTION', 'FROM', 'TO', 'ACTOR', 'FORCED', 'EVIDENCE', 'SERVING', 'REASON'], rows.map((a) => [
        a.id, a.at, a.action, a.from, a.to, a.actor, a.forced ? 'FORCED' : '', a.evidence.length ? a.evidence.join(',') : null, a.serving, a.reason,
      ])));
      for (const a of rows) for (const w of a.warnings) out(`#${a.id} warned: ${w}`);
    }));
}

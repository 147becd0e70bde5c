/** The reconciler's public surface (the CLI, the scheduler and the demo use these). */
export type { WindowResult, WindowStatus, Verdict, DiffSummary, DifferenceSample, DifferenceKind, SideFingerprint, ReconcileOptions } from './types.ts';
export { reconcileDataset, reconcileWindows, DEFAULT_SAMPLES } from './reconcile-dataset.ts';
export { reconcileSettledWindows, writeNightlyReport, renderNightlyReport } from './nightly.ts';
export { buildNightlyReport, type NightlyReport } from './nightly-report-data.ts';
export { exitCodeFor, worstStatus } from './verdict-exit-code.ts';
export { resultText, resultMarkdown } from './result-text.ts';

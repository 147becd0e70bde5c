/** dualrun's public API for applications and scripts. */
export { loadConfig, findConfigFile } from './config/load-config.ts';
export { compileConfig, CONFIG_SCHEMA } from './config/compile-config.ts';
export type { DualrunConfig, DatasetConfig, KafkaConfig } from './config/types.ts';
export { DualrunError, ERROR_CODES, EXIT, type ErrorCode } from './errors.ts';
export { createRuntime, type Runtime } from './runtime.ts';
export { migrate } from './db/migrate.ts';
export { datasetStatuses, type DatasetStatus } from './dataset-status.ts';
export { STAGES, readStage, readStages, pathsRunning, type Stage } from './stages.ts';
export { readServing, servingOf, type Serving } from './cutover/serving.ts';
export { promote, rollback, type StageChange, type PromoteOptions, type RollbackOptions } from './cutover/stage-change.ts';
export { cutoverStatus, type CutoverStatus } from './cutover/cutover-status.ts';
export { readHistory, type AuditEntry } from './cutover/audit-log.ts';
export { evaluateGate, type GateResult, type Verdict } from './cutover/stage-gate.ts';
export { readGateDecisions, type GateDecision } from './cutover/gate-decisions.ts';
export { datasetDefinition, type DatasetDefinition } from './cutover/dataset-definition.ts';
export { parseWindow, windowOf, windowsBetween, type Window } from './windows.ts';

// The legacy batch path.
export { runWindow, type WindowResult as BatchWindowResult } from '../legacy-batch/run-window.ts';
export { backfill } from '../legacy-batch/backfill.ts';
export { adoptWindow } from '../legacy-batch/adopt.ts';

// The streaming path.
export { runStreamWorker, replayOnTheSide, runCapture, type StreamWorkerOptions, type StreamWorkerResult, type ReplayFrom, type Transport, type TransformFn, type TransformContext } from '../streaming/index.ts';

// The reconciler.
export {
  reconcileDataset, reconcileWindows, reconcileSettledWindows, writeNightlyReport,
  type WindowResult as ReconcileWindowResult, type DiffSummary, type DifferenceSample, type DifferenceKind,
} from '../reconcile/index.ts';

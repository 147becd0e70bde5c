/** dualrun's public API for applications and scripts. */
export { loadConfig, findConfigFile } from './core/config/load-config.ts';
export { compileConfig, CONFIG_SCHEMA } from './core/config/compile-config.ts';
export type { DualrunConfig, DatasetConfig, KafkaConfig } from './core/config/types.ts';
export { DualrunError, ERROR_CODES, EXIT, type ErrorCode } from './core/errors.ts';
export { createRuntime, type Runtime } from './core/runtime.ts';
export { migrate } from './core/db/migrate.ts';
export { datasetStatuses, type DatasetStatus } from './app/dataset-status.ts';
export { STAGES, readStage, readStages, pathsRunning, type Stage } from './core/stages.ts';
export { readServing, servingOf, type Serving } from './core/cutover/serving.ts';
export { promote, rollback, type StageChange, type PromoteOptions, type RollbackOptions } from './core/cutover/stage-change.ts';
export { cutoverStatus, type CutoverStatus } from './core/cutover/cutover-status.ts';
export { readHistory, type AuditEntry } from './core/cutover/audit-log.ts';
export { evaluateGate, type GateResult, type Verdict } from './core/cutover/stage-gate.ts';
export { readGateDecisions, type GateDecision } from './core/cutover/gate-decisions.ts';
export { datasetDefinition, type DatasetDefinition } from './core/cutover/dataset-definition.ts';
export { parseWindow, windowOf, windowsBetween, type Window } from './core/windows.ts';

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

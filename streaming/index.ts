/** The streaming path's public API (the CLI and the demo use these). */
export { runStreamWorker, type StreamWorkerOptions, type StreamWorkerResult } from './stream-supervisor.ts';
export { streamDataset } from './dataset-stream.ts';
export { replayOnTheSide, sourceName, type ReplayFrom, type ReplayResult } from './replay.ts';
export { storedPositions, type StoredPositions } from './stored-positions.ts';
export { applyBatch, applyRecords, type SinkDeps, type ApplyResult, type BatchOutcome } from './exactly-once-sink.ts';
export { runCapture, type CaptureResult } from './capture/run-capture.ts';
export { removeCapture, type RemovedCapture } from './capture/remove-capture.ts';
export { pruneChangelogs, type PruneResult } from './capture/changelog-prune.ts';
export { installCapture } from './capture/capture-triggers.ts';
export type { Transport, SourceBatch, SourceRecord, Position } from './transport.ts';
export type { TransformContext, TransformFn } from './transform-module.ts';

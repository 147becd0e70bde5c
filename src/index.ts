/** dualrun's public API for applications and scripts. */
export { loadConfig, findConfigFile } from './config/load-config.ts';
export { compileConfig, CONFIG_SCHEMA } from './config/compile-config.ts';
export type { DualrunConfig, DatasetConfig, KafkaConfig } from './config/types.ts';
export { DualrunError, ERROR_CODES, EXIT, type ErrorCode } from './errors.ts';
export { createRuntime, type Runtime } from './runtime.ts';
export { migrate } from './db/migrate.ts';
export { datasetStatuses, type DatasetStatus } from './dataset-status.ts';

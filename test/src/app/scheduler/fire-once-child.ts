/** Child process for killed-fire.test.ts: one scheduler fire of JOB at FIRE_AT, the same path a cron tick takes. */
import fs from 'node:fs';
import { compileConfig } from '../../../../src/core/config/compile-config.ts';
import { createLogger } from '../../../../src/core/logger.ts';
import { createRuntime } from '../../../../src/core/runtime.ts';
import { plannedJobs } from '../../../../src/app/scheduler/planned-jobs.ts';
import { createScheduler } from '../../../../src/app/scheduler/scheduler.ts';

const [file, job, fireAt] = process.argv.slice(2);
const rt = createRuntime({ config: compileConfig(JSON.parse(fs.readFileSync(file, 'utf8')), { path: file }), log: createLogger('silent') });
const s = createScheduler({ rt, jobs: plannedJobs(rt.config).jobs, graceMs: 1000 });
const r = await s.fire(job, new Date(fireAt));
process.stdout.write(JSON.stringify(r));
await rt.close();

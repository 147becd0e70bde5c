/**
 * pino logger writing to stderr (stdout is for results). Every record is scrubbed
 * of secrets before it is written.
 */
import { pino, destination, type Logger } from 'pino';
import { scrubDeep } from './secrets.ts';

export type { Logger };

export function createLogger(level: string = process.env.DUALRUN_LOG_LEVEL ?? 'info'): Logger {
  return pino(
    {
      level,
      base: { name: 'dualrun' },
      formatters: { log: (obj) => scrubDeep(obj) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          // Scrub message strings too (formatters.log only sees the object part).
          method.apply(this, args.map((a) => scrubDeep(a)) as Parameters<typeof method>);
        },
      },
    },
    destination({ fd: 2, sync: true }),
  );
}

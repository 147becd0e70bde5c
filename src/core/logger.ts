/**
 * pino logger writing to stderr (stdout is for results). Every record is scrubbed
 * of secrets before it is written. On a terminal the lines are made readable by
 * pino-pretty and printed above any progress bar; elsewhere they stay JSON lines.
 * Errors carry their stack only at debug/trace: otherwise one clear message.
 */
import { createRequire } from 'node:module';
import { pino, destination, stdSerializers, type Logger, type DestinationStream } from 'pino';
import { scrubDeep } from './secrets.ts';
import { stderrLine } from './terminal.ts';
import { showsStacks } from './log-levels.ts';

export type { Logger };

export { LOG_LEVELS, showsStacks } from './log-levels.ts';

// Secrets scrubbing has already made errors plain { type, message, stack } objects by now.
const errWithStack = (e: unknown) => (e instanceof Error ? stdSerializers.err(e) : e);

function errWithoutStack(e: unknown): unknown {
  const o = errWithStack(e);
  if (!o || typeof o !== 'object') return o;
  const { stack: _stack, ...rest } = o as Record<string, unknown>;
  return rest;
}

/** pino-pretty, loaded only on a terminal (it is not needed for JSON lines). */
function prettyDestination(): DestinationStream {
  const require = createRequire(import.meta.url);
  const { prettyFactory } = require('pino-pretty') as { prettyFactory: (o: Record<string, unknown>) => (line: string) => string };
  // https://no-color.org: NO_COLOR set to anything but '' turns colours off; so does a dumb terminal.
  const colorize = !process.env.NO_COLOR && process.env.TERM !== 'dumb';
  const pretty = prettyFactory({ colorize, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname,name' });
  return { write: (line: string) => stderrLine(pretty(line)) };
}

export function createLogger(level: string = process.env.DUALRUN_LOG_LEVEL ?? 'info', opts: { pretty?: boolean } = {}): Logger {
  const pretty = opts.pretty ?? (Boolean(process.stderr.isTTY) && process.env.DUALRUN_LOG_FORMAT !== 'json');
  const err = showsStacks(level) ? errWithStack : errWithoutStack;
  return pino(
    {
      level,
      base: { name: 'dualrun' },
      serializers: { err, error: err },
      formatters: { log: (obj) => scrubDeep(obj) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          // Scrub message strings too (formatters.log only sees the object part).
          method.apply(this, args.map((a) => scrubDeep(a)) as Parameters<typeof method>);
        },
      },
    },
    pretty ? prettyDestination() : destination({ fd: 2, sync: true }),
  );
}

import { pino, type Logger as PinoLogger, type DestinationStream } from 'pino';
import type { Redactor } from './redact.js';

export type Logger = PinoLogger;

export interface LoggerOptions {
  readonly level?: string;
  /** Human-readable output (for a terminal); JSON lines otherwise. */
  readonly pretty?: boolean;
  readonly redactor: Redactor;
  /** Where lines go; stderr by default so stdout stays clean for `--json` reports. */
  readonly destination?: DestinationStream | NodeJS.WritableStream;
  /** Fields on every line (e.g. `{ service: 'tableau-export' }`). */
  readonly base?: Record<string, unknown>;
}

/**
 * Structured logger (pino). Every line passes through the redactor: messages, and every string field, so a token
 * inside an error message or a URL is never written.
 */
export function createLogger(options: LoggerOptions): Logger {
  const { redactor } = options;
  const destination =
    options.destination ??
    (options.pretty === true
      ? pino.transport({ target: 'pino-pretty', options: { destination: 2, colorize: true, ignore: 'pid,hostname' } })
      : pino.destination({ dest: 2, sync: true }));
  return pino(
    {
      level: options.level ?? process.env['LOG_LEVEL'] ?? 'info',
      base: options.base ?? {},
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (obj) => redactor.redactValue(serializeErrors(obj)),
      },
      hooks: {
        logMethod(args, method) {
          const redacted = args.map((a: unknown) => (typeof a === 'string' ? redactor.redact(a) : a));
          method.apply(this, redacted as Parameters<typeof method>);
        },
      },
    },
    destination,
  );
}

/** Turns Error values into plain objects (message, code, stack) before redaction. */
function serializeErrors(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (v instanceof Error) {
      const e = v as Error & { code?: unknown };
      out[k] = { type: e.name, message: e.message, code: e.code, stack: e.stack };
    } else {
      out[k] = v;
    }
  }
  return out;
}

/** A logger that drops everything (for library callers and tests that do not care). */
export function createSilentLogger(): Logger {
  return pino({ level: 'silent' });
}

/**
 * Log lines on a terminal while a progress line is shown: each line first erases the progress line (which comes back
 * with the next update), so a log line is never glued onto it. And the pipeline's own "run failed" line is not
 * printed when the command prints the run's ✗ summary to the same terminal: one error, said once.
 */
import { createLogger, type Logger } from '../shared/logger.js';
import type { Redactor } from '../shared/redact.js';
import type { ProgressLine } from './output.js';

export interface TerminalLoggerOptions {
  readonly redactor: Redactor;
  readonly level: string;
  readonly progress: ProgressLine;
  /** Leave out the pipeline's end-of-run failure line (the caller prints the run's summary instead). */
  readonly dropRunFailure: boolean;
  readonly write?: ((text: string) => void) | undefined;
}

/**
 * A pretty, synchronous logger on stderr that shares the terminal with a progress line. pino-pretty is loaded here,
 * only when stderr is a terminal (≈ 10 MiB of RSS a scheduled or piped run does not need).
 */
export async function createTerminalLogger(options: TerminalLoggerOptions): Promise<Logger> {
  const write = options.write ?? ((text: string) => void process.stderr.write(text));
  const { default: pinoPretty } = await import('pino-pretty');
  const prettify = pinoPretty.prettyFactory({ colorize: true, ignore: 'pid,hostname' });
  return createLogger({
    redactor: options.redactor,
    level: options.level,
    destination: {
      write(line: string) {
        if (options.dropRunFailure && isRunFailureLine(line)) return;
        options.progress.clear();
        write(prettify(line));
      },
    },
  });
}

/** The line `runExport` logs when a run ends failed: what the ✗ summary says too. */
function isRunFailureLine(line: string): boolean {
  try {
    const entry: unknown = JSON.parse(line);
    return (
      typeof entry === 'object' &&
      entry !== null &&
      'msg' in entry &&
      typeof entry.msg === 'string' &&
      entry.msg.startsWith('run failed: ') &&
      'runId' in entry
    );
  } catch {
    return false;
  }
}

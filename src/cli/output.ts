/** Terminal output helpers: error lines, progress, tables. The one place errors become exit codes. */
import { AppError, ConfigError, UsageError } from '../shared/errors.js';
import type { Redactor } from '../shared/redact.js';

export const EXIT_OK = 0;
export const EXIT_RUN_FAILED = 1;
export const EXIT_USAGE = 2;

/** Prints an error as one clear line (plus every config issue), the stack only when verbose; returns the exit code. */
export function reportError(
  err: unknown,
  options: { verbose: boolean; redactor: Redactor; write?: (s: string) => void },
): number {
  const write = options.write ?? ((s: string) => process.stderr.write(s));
  const r = (s: string): string => options.redactor.redact(s);
  if (err instanceof ConfigError) {
    write(`config error${err.issues.length === 1 ? '' : `s (${err.issues.length})`}:\n${r(err.message)}\n`);
    if (options.verbose && err.stack !== undefined) write(`${r(err.stack)}\n`);
    return EXIT_USAGE;
  }
  if (err instanceof UsageError) {
    write(`error: ${r(err.userMessage)}\n`);
    return EXIT_USAGE;
  }
  if (err instanceof AppError) {
    write(`error [${err.code}]: ${r(err.userMessage)}\n`);
    if (options.verbose && err.stack !== undefined) write(`${r(err.stack)}\n`);
    return EXIT_RUN_FAILED;
  }
  const message = err instanceof Error ? err.message : String(err);
  write(`error: ${r(message)}\n`);
  if (options.verbose && err instanceof Error && err.stack !== undefined) write(`${r(err.stack)}\n`);
  else write('(run again with --verbose for details)\n');
  return EXIT_RUN_FAILED;
}

/** Renders rows as an aligned text table. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** A progress line on a TTY (rewritten in place), silent otherwise. */
export function createProgress(stream: NodeJS.WriteStream = process.stderr): {
  update(text: string): void;
  done(): void;
} {
  if (!stream.isTTY) return { update: () => undefined, done: () => undefined };
  let last = 0;
  let shown = false;
  return {
    update(text) {
      const now = Date.now();
      if (now - last < 200) return;
      last = now;
      shown = true;
      stream.write(`\r\u001b[2K${text}`);
    },
    done() {
      if (shown) stream.write('\r\u001b[2K');
      shown = false;
    },
  };
}

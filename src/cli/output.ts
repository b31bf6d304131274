/** Terminal output helpers: error lines, progress, tables. The one place errors become exit codes. */
import { AppError, ConfigError, UsageError } from '../shared/errors.js';
import type { Redactor } from '../shared/redact.js';
import type { RunProgress } from '../contracts/run-progress.js';
export { formatLocalTime } from '../shared/time.js';

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

/** A progress line rewritten in place on a terminal. */
export interface ProgressLine {
  update(text: string): void;
  /** Erases the line so something else can be written (it comes back with the next update). */
  clear(): void;
  done(): void;
}

/** A progress line on a TTY (rewritten in place), silent otherwise. */
export function createProgress(stream: NodeJS.WriteStream = process.stderr): ProgressLine {
  if (!stream.isTTY) return { update: () => undefined, clear: () => undefined, done: () => undefined };
  let last = 0;
  let shown = false;
  const clear = (): void => {
    if (shown) stream.write('\r\u001b[2K');
    shown = false;
  };
  return {
    update(text) {
      const now = Date.now();
      if (shown && now - last < 200) return;
      last = now;
      shown = true;
      // Never wider than the terminal: a wrapped line cannot be rewritten in place.
      const width = Math.max(20, (stream.columns || 80) - 1);
      stream.write(`\r\u001b[2K${text.length > width ? `${text.slice(0, width - 1)}…` : text}`);
    },
    clear,
    done: clear,
  };
}

/**
 * `sales: write Opportunities (1/3) 20,000 of 30,000 rows · 12 s`, `sales: upload 1.2 of 2.3 MB · 14 s`: where a
 * run is, in one line.
 */
export function formatProgressLine(exportId: string, p: RunProgress, elapsedMs: number): string {
  const stage = p.stage === 'parse' ? 'type' : p.stage;
  const sheet =
    p.sheet === ''
      ? ''
      : ` ${p.sheet}${p.sheetCount !== undefined && p.sheetCount > 1 ? ` (${p.sheetIndex ?? '?'}/${p.sheetCount})` : ''}`;
  const n = (x: number): string => x.toLocaleString('en-US');
  let amount = '';
  if (stage === 'upload' && p.bytesTotal !== undefined && p.bytesTotal > 0)
    amount = ` ${formatMegabytes(p.bytesSent ?? 0)} of ${formatMegabytes(p.bytesTotal)} MB`;
  else if ((stage === 'type' || stage === 'write') && p.rows > 0)
    amount = ` ${n(p.rows)}${p.rowsTotal === undefined ? '' : ` of ${n(p.rowsTotal)}`} rows`;
  return `${exportId}: ${stage}${sheet}${amount} · ${Math.round(elapsedMs / 1000)} s`;
}

function formatMegabytes(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}

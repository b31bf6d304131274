/**
 * One error hierarchy for the whole tool. Every error has a stable `code` (used by run reports, the admin API and
 * tests), a `retryable` flag (retry policy is decided by type, never by parsing messages), an optional `hint`
 * (how the user fixes it) and a `cause`. Errors become exit codes only in `cli/` and HTTP statuses only in `server/`.
 */
export interface AppErrorOptions {
  readonly retryable?: boolean;
  readonly hint?: string;
  readonly cause?: unknown;
  /** Extra structured facts (HTTP status, Tableau error code, ...). Never secrets. */
  readonly details?: Readonly<Record<string, unknown>>;
}

export class AppError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  readonly hint: string | undefined;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: string, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.hint = options.hint;
    this.details = options.details ?? {};
  }

  /** The message with its hint, as printed to users: "what failed, for which input; how to fix it". */
  get userMessage(): string {
    return this.hint === undefined ? this.message : `${this.message}; ${this.hint}`;
  }
}

/** One problem in a configuration file, located as precisely as we can. */
export interface ConfigIssue {
  readonly file: string;
  readonly line: number | undefined;
  /** Dotted path inside the document, e.g. `exports[0].schedule`. */
  readonly path: string;
  readonly message: string;
}

/** Invalid configuration: carries every issue found, so they are reported all at once. Exit code 2. */
export class ConfigError extends AppError {
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[], options: AppErrorOptions = {}) {
    super('CONFIG_INVALID', formatConfigIssues(issues), options);
    this.issues = issues;
  }
}

/** Wrong command-line usage (unknown export id, conflicting flags). Exit code 2. */
export class UsageError extends AppError {
  constructor(message: string, options: AppErrorOptions = {}) {
    super('USAGE', message, options);
  }
}

/** Errors from a data source (Tableau, CSV file). */
export class SourceError extends AppError {}
/** Errors from a destination (OneDrive, local folder). */
export class DestinationError extends AppError {}
/** Errors while building the workbook (disk full, limits). */
export class WorkbookError extends AppError {}
/** A run was aborted (shutdown, cancellation). */
export class AbortedError extends AppError {
  constructor(message = 'run aborted', options: AppErrorOptions = {}) {
    super('ABORTED', message, options);
  }
}

/** Renders config issues one per line as `file:line path: message`. */
export function formatConfigIssues(issues: readonly ConfigIssue[]): string {
  return issues
    .map(
      (i) => `${i.file}${i.line === undefined ? '' : `:${i.line}`} ${i.path === '' ? '(root)' : i.path}: ${i.message}`,
    )
    .join('\n');
}

/** Wraps anything thrown into an AppError, keeping AppErrors as they are. */
export function toAppError(err: unknown, code = 'INTERNAL'): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof Error) return new AppError(code, err.message, { cause: err });
  return new AppError(code, String(err));
}

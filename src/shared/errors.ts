/**
 * One error hierarchy for the whole tool. Every error has a stable `code` (used by run reports, the admin API and
 * tests), a `retryable` flag (retry policy is decided by type, never by parsing messages), an optional `hint`
 * (how the user fixes it) and a `cause`. Errors become exit codes only in `cli/` and HTTP statuses only in `server/`.
 */
/**
 * Every error code the tool produces: run reports, the admin API, exit codes and tests rely on them, so a new code
 * is added here (and a renamed one is a breaking change for users' scripts). `INTERRUPTED` is what a run report
 * says when its process stopped (shutdown, crash, a worker killed) before the run ended.
 */
export type ErrorCode =
  | 'ABORTED'
  | 'BURST_FIELD_MISSING'
  | 'BURST_NAME_INVALID'
  | 'BURST_PARTS_FAILED'
  | 'CONFIG_INVALID'
  | 'CSV_EMPTY'
  | 'CSV_MALFORMED'
  | 'CSV_NOT_FOUND'
  | 'CSV_READ_FAILED'
  | 'DATA_STALE'
  | 'DASHBOARD_MISSING'
  | 'DESTINATION_INVALID_FILE_NAME'
  | 'DESTINATION_WRITE_FAILED'
  | 'DESTINATION_CHANGED'
  | 'DESTINATION_TOO_LARGE'
  | 'EXPORT_ALREADY_RUNNING'
  | 'WORKBOOK_UPDATE_INVALID_TARGET'
  | 'WORKBOOK_UPDATE_TABLE_NOT_FOUND'
  | 'WORKBOOK_UPDATE_OVERLAP'
  | 'WORKBOOK_UPDATE_KEY_REQUIRED'
  | 'WORKBOOK_UPDATE_KEY_MISSING'
  | 'WORKBOOK_UPDATE_CONFLICT'
  | 'INTERNAL'
  | 'INTERRUPTED'
  | 'INVALID_JSON'
  | 'METRICS_COLUMN_MISSING'
  | 'ONEDRIVE_AUTH_CONFIG'
  | 'ONEDRIVE_AUTH_FAILED'
  | 'ONEDRIVE_AUTH_UNREACHABLE'
  | 'ONEDRIVE_AUTH_THROTTLED'
  | 'ONEDRIVE_CA_FILE'
  | 'ONEDRIVE_CONFIG'
  | 'ONEDRIVE_CONFLICT'
  | 'ONEDRIVE_DRIVE_NOT_FOUND'
  | 'ONEDRIVE_FILE_CHANGED'
  | 'ONEDRIVE_FORBIDDEN'
  | 'ONEDRIVE_INVALID_PATH'
  | 'ONEDRIVE_INVALID_SITE'
  | 'ONEDRIVE_LOCKED'
  | 'ONEDRIVE_NETWORK'
  | 'ONEDRIVE_NOT_FOUND'
  | 'ONEDRIVE_QUOTA_EXCEEDED'
  | 'ONEDRIVE_RANGE_NOT_SATISFIABLE'
  | 'ONEDRIVE_REQUEST_FAILED'
  | 'ONEDRIVE_SERVER_ERROR'
  | 'ONEDRIVE_THROTTLED'
  | 'ONEDRIVE_UNAUTHORIZED'
  | 'ONEDRIVE_UNEXPECTED_RESPONSE'
  | 'ONEDRIVE_UPLOAD_FAILED'
  | 'ONEDRIVE_UPLOAD_NO_PROGRESS'
  | 'ONEDRIVE_VERIFY_FAILED'
  | 'PIVOT_INVALID'
  | 'PIVOT_TOO_LARGE'
  | 'RUN_STORE_CORRUPT'
  | 'RUN_STORE_INVALID'
  | 'RUN_STORE_UNAVAILABLE'
  | 'SCHEDULER_STATE'
  | 'SHUTTING_DOWN'
  | 'STATE_DB_OPEN_FAILED'
  | 'TABLEAU_API_VERSION_INVALID'
  | 'TABLEAU_API_VERSION_UNSUPPORTED'
  | 'TABLEAU_AUTH_FAILED'
  | 'TABLEAU_AUTH_MISSING'
  | 'TABLEAU_BAD_REQUEST'
  | 'TABLEAU_BAD_RESPONSE'
  | 'TABLEAU_CA_FILE'
  | 'TABLEAU_FEATURE_DISABLED'
  | 'TABLEAU_HTTP_ERROR'
  | 'TABLEAU_INVALID_MAX_AGE'
  | 'TABLEAU_METADATA_UNAVAILABLE'
  | 'TABLEAU_NOT_A_DASHBOARD'
  | 'TABLEAU_NETWORK'
  | 'TABLEAU_NOT_FOUND'
  | 'TABLEAU_PERMISSION_DENIED'
  | 'TABLEAU_REDIRECT'
  | 'TABLEAU_REDIRECT_REFUSED'
  | 'TABLEAU_SERVER_ERROR'
  | 'TABLEAU_SERVER_TOO_OLD'
  | 'TABLEAU_SESSION_EXPIRED'
  | 'TABLEAU_SITE_NOT_FOUND'
  | 'TABLEAU_THROTTLED'
  | 'TABLEAU_TIMEOUT'
  | 'TABLEAU_TLS'
  | 'TABLEAU_TOO_LARGE'
  | 'TABLEAU_TRUNCATED'
  | 'TABLEAU_VIEW_AMBIGUOUS'
  | 'TABLEAU_VIEW_NOT_FOUND'
  | 'TABLEAU_VIEW_QUERY_FAILED'
  | 'TABLEAU_VIEW_REQUEST_INVALID'
  | 'TABLEAU_WORKBOOK_NOT_FOUND'
  | 'USAGE'
  | 'VIEW_EMPTY'
  | 'VIEW_UNFILTERED'
  | 'WEBHOOK_CA_FILE'
  | 'WEBHOOK_HTTP'
  | 'WEBHOOK_REFUSED'
  | 'WEBHOOK_UNREACHABLE'
  | 'WORKBOOK_EMPTY'
  | 'WORKBOOK_INVALID_OPTIONS'
  | 'WORKBOOK_INVALID_SPEC'
  | 'WORKBOOK_UNKNOWN_SHEET'
  | 'WORKBOOK_WRITER_STATE'
  | 'WORKBOOK_WRITE_FAILED';

export interface AppErrorOptions {
  readonly retryable?: boolean;
  readonly hint?: string;
  readonly cause?: unknown;
  /** Extra structured facts (HTTP status, Tableau error code, ...). Never secrets. */
  readonly details?: Readonly<Record<string, unknown>>;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly hint: string | undefined;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
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
export function toAppError(err: unknown, code: ErrorCode = 'INTERNAL'): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof Error) return new AppError(code, err.message, { cause: err });
  return new AppError(code, String(err));
}

/** The run report: what one export run did. Printed by `run --json`, stored as run history, shown in the dashboard. */

export type RunStatus = 'running' | 'succeeded' | 'failed' | 'skipped' | 'unchanged';

/** Who or what started a run. `by` names the admin token (never the token itself) for manual runs. */
export type RunTrigger =
  | { readonly kind: 'schedule'; readonly scheduledFor?: string | undefined }
  | { readonly kind: 'manual'; readonly by: string }
  | { readonly kind: 'cli' }
  | { readonly kind: 'catch-up'; readonly scheduledFor?: string | undefined };

export interface SheetReport {
  readonly sheet: string;
  readonly rows: number;
  /** Where its data came from (view, filters, maxAge, file...). */
  readonly source: string;
}

export interface RunReport {
  readonly runId: string;
  readonly exportId: string;
  readonly trigger: RunTrigger;
  readonly status: RunStatus;
  /** ISO 8601 with offset. */
  readonly startedAt: string;
  readonly finishedAt: string | undefined;
  readonly durationMs: number | undefined;
  readonly sheets: readonly SheetReport[];
  /** Total data rows over all data sheets. */
  readonly rows: number;
  /** Size of the delivered workbook in bytes (0 when nothing was written). */
  readonly bytes: number;
  readonly destination: { readonly location: string; readonly webUrl?: string | undefined; readonly itemId?: string | undefined; readonly eTag?: string | undefined } | undefined;
  readonly warnings: readonly string[];
  /** Redacted. */
  readonly error: { readonly code: string; readonly message: string } | undefined;
  /** Milliseconds spent per stage: fetch, parse (typing), write, upload, metrics. */
  readonly timings: Readonly<Record<string, number>>;
  /** Hash of the data content (not the xlsx bytes), used to skip unchanged uploads. */
  readonly dataHash: string | undefined;
  /** Retry attempt (1 for the first), in queue mode. */
  readonly attempt?: number | undefined;
}

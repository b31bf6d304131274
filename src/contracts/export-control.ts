/**
 * What the admin server needs to list and start exports. The in-process scheduler provides it
 * (`scheduler/scheduler-control.ts`), and so does the BullMQ queue mode (`scheduler/queue/queue-export-control.ts`).
 */

/** One export as the API and dashboard show it. */
export interface ExportInfo {
  readonly id: string;
  /** Cron pattern, or undefined for manual-only exports. */
  readonly schedule: string | undefined;
  readonly timezone: string;
  readonly nextRun: Date | undefined;
  /** A run of this export is running or queued. */
  readonly running: boolean;
  /** Id of that run, when known. */
  readonly runningRunId: string | undefined;
  readonly destinationLabel: string;
  /** Absolute path of the workbook, for an export delivered to a local folder (the admin API serves it). */
  readonly localFile?: string | undefined;
  /** destination.mode is update: the run downloads the team's workbook and refreshes it in place. */
  readonly updateMode?: boolean | undefined;
}

export type TriggerResult =
  /** The run was accepted; it is in the run history (at least as `running`) by the time this resolves. */
  | { readonly outcome: 'started'; readonly runId: string }
  /** A run of this export is already running or queued. */
  | { readonly outcome: 'conflict'; readonly runningRunId: string | undefined }
  | { readonly outcome: 'not-found' }
  /** Not accepting runs now (shutting down, queue unreachable); `message` says why. */
  | { readonly outcome: 'unavailable'; readonly message: string };

export interface ExportControl {
  list(): Promise<readonly ExportInfo[]>;
  /** Starts a manual run of `exportId`, recorded as triggered by `by` (an admin token's name). */
  trigger(exportId: string, by: string): Promise<TriggerResult>;
  /** True when runs can be started (scheduler running / queue reachable). */
  isReady(): Promise<boolean>;
}

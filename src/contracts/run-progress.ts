/**
 * Live progress of runs: what a run says about itself while it runs (stage, rows, bytes), on a terminal and in the
 * admin dashboard. The pipeline reports {@link RunProgress}; the scheduler (in-process or a queue worker) turns it
 * into {@link LiveRun}s and publishes them on a {@link ProgressSink}; the admin server relays them to browsers.
 */
import { z } from 'zod';

/**
 * The stages of a run, in order: sign in and find the views, download them, type the columns, (update mode) download
 * the team's workbook, write, deliver.
 */
export const RUN_STAGES = ['resolve', 'fetch', 'type', 'download', 'write', 'upload'] as const;
export type RunStage = (typeof RUN_STAGES)[number];

/** Where a run is, as the pipeline reports it. */
export interface RunProgress {
  /** `parse` is the older name of `type` (typing the columns, pass 1). */
  readonly stage: RunStage | 'parse';
  /** The sheet (view) the stage works on; '' for stages of the whole workbook (upload). */
  readonly sheet: string;
  /** Rows of `sheet` done so far in this stage. */
  readonly rows: number;
  /** Rows of `sheet` in all, when known (at the end of a one-pass write; after update mode's typing pass). */
  readonly rowsTotal?: number | undefined;
  /** 1-based position of `sheet` among the export's views, and how many there are. */
  readonly sheetIndex?: number | undefined;
  readonly sheetCount?: number | undefined;
  /** Upload: bytes the destination has accepted, and the workbook's size. */
  readonly bytesSent?: number | undefined;
  readonly bytesTotal?: number | undefined;
  /**
   * How long this stage may stay quiet (no progress report) before the run counts as stalled, in ms. Set by the
   * composition root from the config's timeouts (the pipeline does not know them).
   */
  readonly stageTimeoutMs?: number | undefined;
}

/** A run in progress as the dashboard shows it. Times are ISO 8601. */
export interface LiveRun {
  readonly runId: string;
  readonly exportId: string;
  readonly attempt?: number | undefined;
  readonly worker?: string | undefined;
  readonly stage: RunStage;
  readonly sheet: string;
  readonly sheetIndex?: number | undefined;
  readonly sheetCount?: number | undefined;
  /** Rows of the current sheet so far, and in all when known. */
  readonly rows: number;
  readonly rowsTotal?: number | undefined;
  /** Rows of the sheets already written before the current one. */
  readonly rowsDone: number;
  readonly bytesSent?: number | undefined;
  readonly bytesTotal?: number | undefined;
  readonly startedAt: string;
  readonly stageStartedAt: string;
  /** When the run last reported progress. */
  readonly updatedAt: string;
  readonly stageTimeoutMs?: number | undefined;
}

/** A run ended: the dashboard stops showing its progress and reads its report. */
export interface RunEnded {
  readonly runId: string;
  readonly exportId: string;
  readonly status: string;
  readonly at: string;
}

export type ProgressEvent =
  { readonly kind: 'progress'; readonly run: LiveRun } | { readonly kind: 'ended'; readonly ended: RunEnded };

/** Where runs publish their progress (the admin server's live view, or Redis in queue mode). Never throws. */
export interface ProgressSink {
  publish(event: ProgressEvent): void;
}

const liveRunSchema = z.object({
  runId: z.string().min(1),
  exportId: z.string().min(1),
  attempt: z.number().int().optional(),
  worker: z.string().optional(),
  stage: z.enum(RUN_STAGES),
  sheet: z.string(),
  sheetIndex: z.number().int().optional(),
  sheetCount: z.number().int().optional(),
  rows: z.number().nonnegative(),
  rowsTotal: z.number().nonnegative().optional(),
  rowsDone: z.number().nonnegative(),
  bytesSent: z.number().nonnegative().optional(),
  bytesTotal: z.number().nonnegative().optional(),
  startedAt: z.string(),
  stageStartedAt: z.string(),
  updatedAt: z.string(),
  stageTimeoutMs: z.number().positive().optional(),
});

/** A progress event as it travels between processes (JSON). */
export const progressEventSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('progress'), run: liveRunSchema }),
  z.object({
    kind: z.literal('ended'),
    ended: z.object({ runId: z.string().min(1), exportId: z.string().min(1), status: z.string(), at: z.string() }),
  }),
]);

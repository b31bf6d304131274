/** The run report: what one export run did. Printed by `run --json`, stored as run history, shown in the dashboard. */
import { z } from 'zod';

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
  /** The view's column headers, to notice a schema change at the next run. */
  readonly columns?: readonly string[] | undefined;
}

/** What an update did to a team's table, for the run report and the About sheet. */
export interface TableUpdateSummary {
  readonly table: string;
  /** The team's own columns kept: calculated columns extended to every row, value columns by key. */
  readonly calculatedColumns: readonly string[];
  readonly teammateColumns: readonly string[];
  /** View columns added at the right of the table. */
  readonly addedColumns: readonly string[];
  /** Rows whose key left the view: their teammate values, as text, which are gone from the table now. */
  readonly droppedRows: readonly { readonly key: string; readonly values: readonly string[] }[];
}

/** Update mode: what the run did inside the team's workbook. */
export interface WorkbookUpdateReport {
  /** True when there was no file yet and the run created it (as replace mode would). */
  readonly created: boolean;
  /** Teammate saves between our download and our upload, each answered by downloading and patching again. */
  readonly conflicts: number;
  readonly tables: readonly TableUpdateSummary[];
  /** Parts of the team's package copied as they were (byte for byte), and the team's own sheets. */
  readonly keptParts?: number | undefined;
  readonly teamSheets?: readonly string[] | undefined;
}

/** A workbook at its destination. */
export interface DeliveredFile {
  readonly location: string;
  readonly webUrl?: string | undefined;
  readonly itemId?: string | undefined;
  readonly eTag?: string | undefined;
  /** When this file was written there (ISO 8601); an unchanged run carries the time of the delivery it kept. */
  readonly deliveredAt?: string | undefined;
}

/** One attempt of a run (queue mode): where it ran and how it ended. The run's record lists every attempt. */
export interface AttemptSummary {
  readonly attempt: number;
  /** The attempt's own id (`<runId>` for attempt 1, `<runId>#<n>` after). */
  readonly attemptId: string;
  readonly status: RunStatus;
  /** The worker process that ran it (host:pid), when known. */
  readonly worker?: string | undefined;
  readonly startedAt: string;
  readonly finishedAt?: string | undefined;
  readonly durationMs?: number | undefined;
  /** Redacted. */
  readonly error?: { readonly code: string; readonly message: string } | undefined;
}

/** How a burst split the run (`exports[].burst`), with the values it used. */
export interface BurstSummary {
  readonly by: string;
  readonly into: 'sheets' | 'files';
  /** The values of the parts, in order. */
  readonly values: readonly string[];
  /** True when the values were read from the data (`values: all`), false when the config lists them. */
  readonly discovered: boolean;
}

/** One part of a burst run: the data of one value, as a sheet group (into sheets) or its own workbook (into files). */
export interface PartReport {
  readonly value: string;
  /** `skipped`: not run (a sheets burst whose other part failed delivers no workbook). */
  readonly status: 'succeeded' | 'unchanged' | 'failed' | 'skipped';
  readonly sheets: readonly SheetReport[];
  readonly rows: number;
  /** Size of this part's workbook (into files; 0 otherwise). */
  readonly bytes: number;
  /** Into files: what the destination holds for this part after the run. */
  readonly destination?: DeliveredFile | undefined;
  readonly dataHash?: string | undefined;
  readonly warnings: readonly string[];
  /** Redacted. */
  readonly error?: { readonly code: string; readonly message: string } | undefined;
  readonly note?: string | undefined;
  /** A retry kept this part as the run `keptFrom` delivered it, without running it again. */
  readonly keptFrom?: string | undefined;
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
  /** What the destination holds after the run: the file delivered now, or (unchanged) the one delivered before. */
  readonly destination: DeliveredFile | undefined;
  readonly warnings: readonly string[];
  /** Redacted. */
  readonly error: { readonly code: string; readonly message: string } | undefined;
  /** Milliseconds spent per stage: fetch, parse (typing), write, upload, metrics. */
  readonly timings: Readonly<Record<string, number>>;
  /** Hash of the data content (not the xlsx bytes), used to skip unchanged uploads. */
  readonly dataHash: string | undefined;
  /** Retry attempt (1 for the first), in queue mode. */
  readonly attempt?: number | undefined;
  /** Findings worth a notification even when the run succeeded (the view's columns changed, metrics off...). */
  readonly alerts?: readonly string[] | undefined;
  /**
   * What the outcome means for teammates, in plain words, when the status alone does not say it (an unchanged run:
   * since when the data is the same and which version teammates have).
   */
  readonly note?: string | undefined;
  /** Update mode: what the refresh did inside the team's workbook. */
  readonly update?: WorkbookUpdateReport | undefined;
  /** The worker process that ran the current attempt (queue mode: host:pid). */
  readonly worker?: string | undefined;
  /**
   * Every attempt of the run, oldest first, the last one being the report's own (queue mode: a run whose worker died
   * is retried by another worker under the same run id). Undefined for runs that never had an attempt number.
   */
  readonly attempts?: readonly AttemptSummary[] | undefined;
  /** A burst run: the field and values it split on. */
  readonly burst?: BurstSummary | undefined;
  /** A burst run: every part with its own status; the run failed when any part failed. */
  readonly parts?: readonly PartReport[] | undefined;
}

/**
 * True for a run whose process stopped before the run ended (shutdown, crash, a killed worker): it delivered nothing,
 * it is retried or superseded, and it is not news for people or for catch-up. The one place this is decided.
 */
export function isInterrupted(report: Pick<RunReport, 'status' | 'error'>): boolean {
  return report.status === 'failed' && (report.error?.code === 'INTERRUPTED' || report.error?.code === 'ABORTED');
}

/** A report with nothing done yet (a run just recorded, or a skipped tick): the given fields, the rest empty. */
export function blankRunReport(
  fields: Pick<RunReport, 'runId' | 'exportId' | 'trigger' | 'status' | 'startedAt'> & Partial<RunReport>,
): RunReport {
  return {
    finishedAt: undefined,
    durationMs: undefined,
    sheets: [],
    rows: 0,
    bytes: 0,
    destination: undefined,
    warnings: [],
    error: undefined,
    timings: {},
    dataHash: undefined,
    ...fields,
  };
}

/** A tick that was not run because a run of the same export was still going. */
export function skippedRunReport(
  runId: string,
  exportId: string,
  trigger: RunTrigger,
  at: string,
  reason: string,
): RunReport {
  return blankRunReport({
    runId,
    exportId,
    trigger,
    status: 'skipped',
    startedAt: at,
    finishedAt: at,
    durationMs: 0,
    warnings: [reason],
  });
}

/** A RunTrigger as stored or queued (JSON). */
export const runTriggerSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('schedule'), scheduledFor: z.string().optional() }),
  z.object({ kind: z.literal('manual'), by: z.string() }),
  z.object({ kind: z.literal('cli') }),
  z.object({ kind: z.literal('catch-up'), scheduledFor: z.string().optional() }),
]);

const deliveredFileSchema = z.object({
  location: z.string(),
  webUrl: z.string().optional(),
  itemId: z.string().optional(),
  eTag: z.string().optional(),
  deliveredAt: z.string().optional(),
});

const sheetReportSchema = z.object({
  sheet: z.string(),
  rows: z.number(),
  source: z.string(),
  columns: z.array(z.string()).optional(),
});

const partReportSchema = z.object({
  value: z.string(),
  status: z.enum(['succeeded', 'unchanged', 'failed', 'skipped']),
  sheets: z.array(sheetReportSchema).default([]),
  rows: z.number().default(0),
  bytes: z.number().default(0),
  destination: deliveredFileSchema.optional(),
  dataHash: z.string().optional(),
  warnings: z.array(z.string()).default([]),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  note: z.string().optional(),
  keptFrom: z.string().optional(),
});

/** A run report as stored (JSON): `undefined` fields vanish in JSON, so optional fields are optional here. */
const storedRunReportSchema = z.object({
  runId: z.string(),
  exportId: z.string(),
  trigger: runTriggerSchema,
  status: z.enum(['running', 'succeeded', 'failed', 'skipped', 'unchanged']),
  startedAt: z.string(),
  finishedAt: z.string().optional(),
  durationMs: z.number().optional(),
  sheets: z.array(sheetReportSchema).default([]),
  rows: z.number().default(0),
  bytes: z.number().default(0),
  destination: deliveredFileSchema.optional(),
  warnings: z.array(z.string()).default([]),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  timings: z.record(z.string(), z.number()).default({}),
  dataHash: z.string().optional(),
  attempt: z.number().int().optional(),
  alerts: z.array(z.string()).optional(),
  note: z.string().optional(),
  update: z
    .object({
      created: z.boolean(),
      conflicts: z.number(),
      keptParts: z.number().optional(),
      teamSheets: z.array(z.string()).optional(),
      tables: z.array(
        z.object({
          table: z.string(),
          calculatedColumns: z.array(z.string()),
          teammateColumns: z.array(z.string()),
          addedColumns: z.array(z.string()),
          droppedRows: z.array(z.object({ key: z.string(), values: z.array(z.string()) })),
        }),
      ),
    })
    .optional(),
  worker: z.string().optional(),
  attempts: z
    .array(
      z.object({
        attempt: z.number().int(),
        attemptId: z.string(),
        status: z.enum(['running', 'succeeded', 'failed', 'skipped', 'unchanged']),
        worker: z.string().optional(),
        startedAt: z.string(),
        finishedAt: z.string().optional(),
        durationMs: z.number().optional(),
        error: z.object({ code: z.string(), message: z.string() }).optional(),
      }),
    )
    .optional(),
  burst: z
    .object({
      by: z.string(),
      into: z.enum(['sheets', 'files']),
      values: z.array(z.string()),
      discovered: z.boolean(),
    })
    .optional(),
  parts: z.array(partReportSchema).optional(),
});

/**
 * Reads a stored run report (parsed JSON) back, or says what does not match. Shared by every run store so a record
 * written by one is read the same way by the other.
 */
export function parseStoredRunReport(
  data: unknown,
): { readonly ok: true; readonly report: RunReport } | { readonly ok: false; readonly problem: string } {
  const parsed = storedRunReportSchema.safeParse(data);
  if (!parsed.success)
    return { ok: false, problem: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') };
  const r = parsed.data;
  const trigger: RunTrigger =
    r.trigger.kind === 'manual'
      ? { kind: 'manual', by: r.trigger.by }
      : r.trigger.kind === 'cli'
        ? { kind: 'cli' }
        : { kind: r.trigger.kind, scheduledFor: r.trigger.scheduledFor };
  return {
    ok: true,
    report: {
      runId: r.runId,
      exportId: r.exportId,
      trigger,
      status: r.status,
      startedAt: r.startedAt,
      finishedAt: r.finishedAt,
      durationMs: r.durationMs,
      sheets: r.sheets,
      rows: r.rows,
      bytes: r.bytes,
      destination: r.destination,
      warnings: r.warnings,
      error: r.error,
      timings: r.timings,
      dataHash: r.dataHash,
      attempt: r.attempt,
      alerts: r.alerts,
      note: r.note,
      update: r.update,
      worker: r.worker,
      attempts: r.attempts,
      burst: r.burst,
      parts: r.parts,
    },
  };
}

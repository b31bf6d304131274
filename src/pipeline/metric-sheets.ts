/**
 * The metrics stage: the deals of the metrics sheet, the stored history read, tonight's snapshot saved, the history
 * derived and the changes since the last refresh measured, the metric pack computed and laid out as sheet specs in
 * the workbook's language (pure once the history is read).
 */
import type { SnapshotHistory, SnapshotStore } from '../contracts/snapshot-store.js';
import type { ExportConfig } from '../config/schema.js';
import type { Language } from '../shared/i18n/translator.js';
import type { SheetSpec } from '../shared/sheet-spec.js';
import { wallDate } from '../shared/time.js';
import {
  buildMetricSheets,
  compareWithPreviousRun,
  computePipelineMetrics,
  deriveDealHistory,
  describeDealQuality,
  snapshotWindow,
  type DealCollector,
} from '../transforms/metrics/index.js';

export interface MetricSheetsInput {
  readonly exportId: string;
  readonly metrics: NonNullable<ExportConfig['metrics']>;
  readonly deals: DealCollector;
  /** The day the metrics are computed for (config `asOf`, else the run's day in the export's zone). */
  readonly asOf: Date;
  readonly snapshots: SnapshotStore | undefined;
  /** A dry run reads the history but leaves no trace in it. */
  readonly saveSnapshot: boolean;
  /** The workbook's language. */
  readonly language: Language;
  /** When the run started, and the export's zone: the refresh time the Summary shows. */
  readonly refresh: {
    readonly at: Date;
    readonly timeZone: string;
    readonly dataAsOf?: Date | 'live' | undefined;
    /** A burst part's value, named in the Summary's title. */
    readonly part?: string | undefined;
  };
  /**
   * `YYYY-MM-DD`: the snapshot date of the previous successful run ({@link previousRunDate}); "since the last
   * refresh" compares with the latest stored run on or before it. Undefined: with the latest stored run.
   */
  readonly previousRunDate: string | undefined;
}

/**
 * The snapshot date of the last successful run started at `startedAt` (ISO 8601): the metrics' fixed `asOf` when the
 * config sets one, else that run's day in the export's zone. Undefined without a previous success.
 */
export function previousRunDate(
  startedAt: string | undefined,
  metricsAsOf: Date | undefined,
  timeZone: string,
): string | undefined {
  if (startedAt === undefined) return undefined;
  const started = new Date(startedAt);
  if (Number.isNaN(started.getTime())) return undefined;
  return (metricsAsOf ?? wallDate(started, timeZone)).toISOString().slice(0, 10);
}

/** Computes the metric sheets. Returns their specs, Summary first, and data-quality warnings about the deals. */
export function buildMetricsStage(input: MetricSheetsInput): { specs: SheetSpec[]; warnings: string[] } {
  const { metrics, snapshots, asOf } = input;
  const deals = input.deals.deals();
  const warnings = describeDealQuality(input.deals.quality(), metrics.from);
  const window = snapshotWindow(metrics, asOf);
  let stored: SnapshotHistory | undefined;
  if (snapshots !== undefined) {
    // Read before tonight's snapshot is saved: a same-day earlier run, which saving replaces, is still there to
    // compare with. History derivation ignores stored runs on or after asOf, so it reads the same either way.
    stored = snapshots.loadHistory(input.exportId, window.loadSince);
    if (input.saveSnapshot) {
      snapshots.saveSnapshot(input.exportId, window.runDate, deals);
      snapshots.prune(input.exportId, window.pruneBefore);
    }
  }
  const history = stored === undefined ? undefined : deriveDealHistory(stored, deals, asOf);
  const sinceLastRun =
    stored === undefined
      ? undefined
      : compareWithPreviousRun(stored, deals, metrics, input.previousRunDate ?? window.runDate);
  const computed = computePipelineMetrics(deals, metrics, asOf, history, input.language);
  return {
    specs: buildMetricSheets(computed, metrics, {
      refresh: input.refresh,
      sinceLastRun,
      // One currency format everywhere: cents when the view shows them, or when some amount has them.
      cents: input.deals.amountShowsCents() || computed.amountsHaveCents,
    }),
    warnings,
  };
}

/**
 * The metrics stage: the deals of the metrics sheet, tonight's snapshot saved, the history derived from earlier
 * snapshots, the metric pack computed and laid out as sheet specs (pure once the history is read).
 */
import type { SnapshotStore } from '../contracts/snapshot-store.js';
import type { ExportConfig } from '../config/schema.js';
import type { SheetSpec } from '../shared/sheet-spec.js';
import {
  buildMetricSheets,
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
}

/** Computes the metric sheets. Returns their specs, Summary first, and data-quality warnings about the deals. */
export function buildMetricsStage(input: MetricSheetsInput): { specs: SheetSpec[]; warnings: string[] } {
  const { metrics, snapshots, asOf } = input;
  const deals = input.deals.deals();
  const warnings = describeDealQuality(input.deals.quality(), metrics.from);
  let history;
  if (snapshots !== undefined) {
    const window = snapshotWindow(metrics, asOf);
    if (input.saveSnapshot) {
      snapshots.saveSnapshot(input.exportId, window.runDate, deals);
      snapshots.prune(input.exportId, window.pruneBefore);
    }
    history = deriveDealHistory(snapshots.loadHistory(input.exportId, window.loadSince), deals, asOf);
  }
  const computed = computePipelineMetrics(deals, metrics, asOf, history);
  return { specs: buildMetricSheets(computed, metrics), warnings };
}

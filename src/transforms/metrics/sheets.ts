/**
 * The metric sheets as SheetSpec values (data only; `workbook/` renders them), in the workbook's language. Every
 * numeric cell is a finite number; anything unavailable is the text `n/a (reason)`, and on the Summary a bare `n/a`
 * with its reason in a note. Each builder lives in `sheets/`.
 */
import type { SheetSpec } from '../../shared/sheet-spec.js';
import type { PipelineMetrics } from './compute.js';
import type { MetricsConfig } from './config.js';
import type { SinceLastRun } from './since-last-run.js';
import { breakdownSheet, combinedBreakdownSheet } from './sheets/breakdown-sheets.js';
import { funnelSheet, staleSheet, unqualifiedSheet } from './sheets/funnel-sheets.js';
import { movesSheet, trendSheet } from './sheets/history-sheets.js';
import { leadTargetSheet, monthlySheet } from './sheets/revenue-sheets.js';
import { createSheetContext } from './sheets/sheet-context.js';
import { summarySheet, type RefreshTime } from './sheets/summary-sheet.js';

export { KPI_DEFINED_NAMES, type RefreshTime } from './sheets/summary-sheet.js';

export interface MetricSheetOptions {
  /** When the workbook was refreshed, shown at the top of the Summary; absent: no refresh line. */
  readonly refresh?: RefreshTime;
  /**
   * What changed since the last refresh ({@link compareWithPreviousRun}); null on the first run; absent when no
   * snapshot history is kept.
   */
  readonly sinceLastRun?: SinceLastRun | null | undefined;
  /** Money with cents (true) or in whole units (false); default: cents only when some amount has cents. */
  readonly cents?: boolean;
  /** The wanted name of the About sheet the Summary links to (default: the catalogue's, in the metrics' language). */
  readonly aboutSheet?: string;
}

/**
 * The metric sheets, in reading order: Summary (refresh time, changes since the last refresh, KPIs with definitions
 * and defined names, what is not configured), Funnel, Stale deals, Unqualified leads, By owner, By product,
 * Breakdowns (region, deal size, customer type, lead source), Monthly revenue, Lead target, Trend, and Stage moves
 * when there is snapshot history. Texts are in the language `metrics` was computed in.
 */
export function buildMetricSheets(
  metrics: PipelineMetrics,
  config: MetricsConfig,
  options: MetricSheetOptions = {},
): SheetSpec[] {
  const ctx = createSheetContext(metrics, config, options.cents);
  const { t } = ctx;
  const specs: SheetSpec[] = [
    summarySheet(ctx, {
      refresh: options.refresh,
      sinceLastRun: options.sinceLastRun,
      aboutSheet: options.aboutSheet ?? t.t('sheet.about'),
    }),
    funnelSheet(ctx),
    staleSheet(ctx),
    unqualifiedSheet(ctx),
    breakdownSheet(ctx, t.t('sheet.byOwner'), metrics.byOwner),
    breakdownSheet(ctx, t.t('sheet.byProduct'), metrics.byProduct),
    combinedBreakdownSheet(ctx),
    monthlySheet(ctx),
    leadTargetSheet(ctx),
    trendSheet(ctx),
  ];
  const moves = movesSheet(ctx);
  if (moves !== undefined) specs.push(moves);
  return specs;
}

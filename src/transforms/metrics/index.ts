/** Pipeline metrics (pure): deals from typed rows, metrics as of a date, history from snapshots, metric sheets. */
export {
  metricsConfigSchema,
  checkMetricsConfig,
  snapshotWindow,
  DEFAULT_STAGES,
  DEFAULT_OPTIONAL_COLUMNS,
} from './config.js';
export type { MetricsConfig, MetricsConfigInput, MetricsConfigIssue } from './config.js';
export { createDealCollector, describeDealQuality } from './deal.js';
export type { Deal, DealCollector, DealDataQuality, DealOutcome } from './deal.js';
export { computePipelineMetrics, daysInStage } from './compute.js';
export type {
  PipelineMetrics,
  Kpi,
  KpiUnit,
  FunnelRow,
  StaleDeal,
  UnqualifiedDeal,
  Breakdown,
  BreakdownRow,
  MonthRevenue,
  LeadTargetRow,
  TransitionCount,
} from './compute.js';
export { deriveDealHistory, TREND_WEEKS } from './history.js';
export type { SnapshotRow, DealHistory, DealStageHistory, StageEntry, StageTransition, TrendWeek } from './history.js';
export { buildMetricSheets, KPI_DEFINED_NAMES } from './sheets.js';
export type { MetricSheetOptions, RefreshTime } from './sheets.js';
export { compareWithPreviousRun } from './since-last-run.js';
export type { ChangeCount, SinceLastRun } from './since-last-run.js';
export { KPI_KEYS, resolveDefinition, defaultDefinition } from './definitions.js';
export type { KpiKey } from './definitions.js';
export type { Figure, Unavailable } from './figure.js';

/**
 * The metric sheets as SheetSpec values (data only; `workbook/` renders them). Every numeric cell is a finite
 * number; anything unavailable is the text `n/a (reason)` or `input missing (setting)`.
 */
import type { CellFormat, SheetColumn, SheetSpec } from '../../shared/sheet-spec.js';
import type { CellValue } from '../../shared/table.js';
import {
  formatMoney,
  type Breakdown,
  type BreakdownRow,
  type Kpi,
  type KpiUnit,
  type PipelineMetrics,
} from './compute.js';
import type { MetricsConfig } from './config.js';
import { fromDay, parseIsoDay } from './dates.js';
import { resolveDefinition, type KpiKey } from './definitions.js';
import { figureCell } from './figure.js';

/** Workbook-level names of the headline KPI cells (Summary sheet), for teammates' formulas. */
export const KPI_DEFINED_NAMES: Readonly<Partial<Record<KpiKey, string>>> = {
  pipelineValue: 'PipelineValue',
  weightedPipelineValue: 'WeightedPipelineValue',
  openDeals: 'OpenDeals',
  coverage: 'PipelineCoverage',
  winRate: 'WinRate',
  avgDealSize: 'AvgDealSize',
  avgSalesCycle: 'AvgSalesCycle',
  salesVelocity: 'SalesVelocity',
  leadConversion: 'LeadConversionRate',
  wonRevenue: 'WonRevenue',
  revenueGrowth: 'RevenueGrowth',
  newPipeline: 'NewPipeline',
  leadTarget: 'LeadTarget',
  staleDeals: 'StaleDeals',
  // Not "CAC"/"CLV": three letters can read as a column reference in some Excel contexts.
  cac: 'AcquisitionCost',
  clv: 'LifetimeValue',
};

const NOT_FINITE = 'n/a (not a finite number)';

/** Last line of defence: a non-finite number never reaches a cell. */
function safeCell(value: CellValue): CellValue {
  if (typeof value === 'number' && !Number.isFinite(value)) return NOT_FINITE;
  if (value instanceof Date && Number.isNaN(value.getTime())) return null;
  return value;
}

function sheet(spec: SheetSpec): SheetSpec {
  const rows = spec.rows.map((r) => r.map(safeCell));
  // An Excel table needs at least one data row to be useful; empty sheets show their notes instead.
  return { ...spec, rows, ...(rows.length === 0 ? { asTable: false } : {}) };
}

/** How a KPI's value cell is formatted: one Value column, each cell in the format of its unit. */
const VALUE_FORMAT: Readonly<Record<KpiUnit, CellFormat>> = {
  currency: 'currency',
  currencyPerDay: 'currency',
  percent: 'percent',
  ratio: 'percent',
  days: 'days',
  count: 'integer',
};

function unitText(unit: KpiUnit, currency: string): string {
  switch (unit) {
    case 'currency':
      return currency;
    case 'currencyPerDay':
      return `${currency} per day`;
    case 'percent':
      return '%';
    case 'ratio':
      return '% of quota';
    case 'days':
      return 'days';
    case 'count':
      return 'deals';
  }
}

/** Summary columns, in reading order: the KPI, its value and unit, what it means, what it covers. */
const SUMMARY_COLUMNS: readonly SheetColumn[] = [
  { header: 'KPI', format: 'text', width: 30 },
  // Right-aligned and wrapped, so `input missing (metrics.leadTargetPerDay)` lines up under the numbers on two
  // lines instead of being cut; wide enough for its longest word.
  { header: 'Value', format: 'number', width: 26, align: 'right', wrap: true },
  // Centred, so it stands apart from the right-aligned value before it.
  { header: 'Unit', format: 'text', width: 11, align: 'center' },
  { header: 'Definition', format: 'text', width: 50, wrap: true },
  { header: 'Period', format: 'text', width: 24, wrap: true },
  // Centred, so the count does not run into the words of the Counting column next to it.
  { header: 'Based on', format: 'integer', width: 11, align: 'center' },
  { header: 'Counting', format: 'text', width: 30, wrap: true },
];
const SUMMARY_VALUE_COLUMN = 1;

function summarySheet(metrics: PipelineMetrics, config: MetricsConfig): SheetSpec {
  const definedNames: { name: string; row: number; column: number }[] = [];
  const rows = metrics.kpis.map((k: Kpi, rowIndex) => {
    const name = KPI_DEFINED_NAMES[k.key];
    if (name !== undefined) definedNames.push({ name, row: rowIndex, column: SUMMARY_VALUE_COLUMN });
    return [
      k.label,
      figureCell(k.value),
      unitText(k.unit, metrics.currency),
      resolveDefinition(k.key, config, config.definitions),
      k.period,
      k.basis.count,
      k.basis.of,
    ];
  });
  const cellFormats = metrics.kpis.map((k) =>
    SUMMARY_COLUMNS.map((_, i) => (i === SUMMARY_VALUE_COLUMN ? VALUE_FORMAT[k.unit] : undefined)),
  );
  const notes = [
    `${metrics.dealCount} deals from sheet "${config.from}". Flow metrics cover ${metrics.period.label} (${metrics.period.days} days); pipeline metrics are as of ${metrics.asOf}.`,
    'n/a = the data cannot give a value (the reason follows); input missing = a metrics setting is not configured.',
    ...metrics.notes.map((n) => `Data: ${n}.`),
  ];
  return sheet({
    name: 'Summary',
    title: `Pipeline metrics as of ${metrics.asOf}`,
    notes,
    columns: SUMMARY_COLUMNS,
    rows,
    cellFormats,
    definedNames,
    currency: metrics.currency,
  });
}

function funnelSheet(metrics: PipelineMetrics): SheetSpec {
  return sheet({
    name: 'Funnel',
    title: 'Pipeline by stage',
    notes: [
      `Open stages: deals in the stage as of ${metrics.asOf}. Won/lost stages: deals closed in ${metrics.period.label}.`,
      `Reached / moved on / conversion: deals created in ${metrics.period.label} that reached the stage and went past it, from their current stage${metrics.transitions === null ? '' : ' and the stages snapshots saw them in'}.`,
      ...(metrics.conversionUnknownLost > 0
        ? [
            `${metrics.conversionUnknownLost} lost deal${metrics.conversionUnknownLost === 1 ? '' : 's'} left out of conversion (no snapshot shows which stage ${metrics.conversionUnknownLost === 1 ? 'it' : 'they'} reached; snapshot history fills this in over time).`,
          ]
        : []),
    ],
    columns: [
      { header: 'Stage', format: 'text', width: 22 },
      // Wider than the numbers need: the data bars drawn in these two cells are the funnel.
      { header: 'Deals', format: 'integer', width: 14 },
      { header: 'Value', format: 'currency', width: 20 },
      { header: 'Weighted value', format: 'currency', width: 18 },
      { header: 'Reached stage', format: 'integer', width: 16 },
      { header: 'Moved on', format: 'integer', width: 12 },
      { header: 'Conversion to next', format: 'percent', width: 21 },
    ],
    rows: metrics.funnel.map((f) => [
      f.stage,
      f.deals,
      f.value,
      figureCell(f.weightedValue),
      f.reached,
      f.movedOn,
      f.conversionToNext === null ? null : figureCell(f.conversionToNext),
    ]),
    dataBars: [1, 2],
    currency: metrics.currency,
  });
}

function staleSheet(metrics: PipelineMetrics, config: MetricsConfig): SheetSpec {
  const thresholds =
    typeof config.staleAfterDays === 'number'
      ? `${config.staleAfterDays} days in any open stage`
      : Object.entries(config.staleAfterDays)
          .map(([stage, days]) => `${stage} ${days} days`)
          .join(', ');
  return sheet({
    name: 'Stale deals',
    title: `Stale deals as of ${metrics.asOf}`,
    notes: [
      `Thresholds: ${thresholds}. Worst first (most days over the threshold). "Days from" says where the days in stage come from.`,
    ],
    columns: [
      { header: 'Opportunity', format: 'text', width: 16 },
      { header: 'Account', format: 'text', width: 28 },
      { header: 'Owner', format: 'text', width: 20 },
      { header: 'Stage', format: 'text', width: 18 },
      { header: 'Days in stage', format: 'days' },
      { header: 'Threshold', format: 'days' },
      { header: 'Days over', format: 'days' },
      { header: 'Amount', format: 'currency', width: 14 },
      { header: 'Close date', format: 'date', width: 12, align: 'center' },
      { header: 'Days from', format: 'text', width: 40, wrap: true },
    ],
    rows: metrics.staleDeals.map((d) => [
      d.id,
      d.account,
      d.owner,
      d.stage,
      d.daysInStage,
      d.threshold,
      d.daysInStage - d.threshold,
      d.amount,
      d.closeDate,
      d.basis,
    ]),
    currency: metrics.currency,
  });
}

function unqualifiedSheet(metrics: PipelineMetrics, config: MetricsConfig): SheetSpec {
  const deals = metrics.unqualifiedDeals;
  return sheet({
    name: 'Unqualified leads',
    title: 'Unqualified deals past the qualification deadline',
    notes:
      deals === null
        ? [
            'input missing (metrics.qualifyWithinDays): set the number of days a deal may stay unqualified to list them here.',
          ]
        : [
            `Open deals still in ${metrics.qualificationStages.join(', ')} more than ${config.qualifyWithinDays ?? 0} days after creation, as of ${metrics.asOf}. Oldest first.`,
          ],
    columns: [
      { header: 'Opportunity', format: 'text', width: 16 },
      { header: 'Account', format: 'text', width: 28 },
      { header: 'Owner', format: 'text', width: 20 },
      { header: 'Stage', format: 'text', width: 18 },
      { header: 'Days since created', format: 'days' },
      { header: 'Amount', format: 'currency', width: 14 },
    ],
    rows: (deals ?? []).map((d) => [d.id, d.account, d.owner, d.stage, d.daysSinceCreated, d.amount]),
    currency: metrics.currency,
  });
}

const BREAKDOWN_COLUMNS: readonly SheetColumn[] = [
  { header: 'Deals created', format: 'integer' },
  { header: 'Open deals', format: 'integer' },
  { header: 'Open value', format: 'currency', width: 16 },
  { header: 'Deals closed', format: 'integer' },
  { header: 'Won', format: 'integer' },
  { header: 'Won value', format: 'currency', width: 16 },
  { header: 'Win rate', format: 'percent' },
  { header: 'Avg deal size', format: 'currency', width: 14 },
  { header: 'Stale deals', format: 'integer' },
];

function breakdownCells(r: BreakdownRow): CellValue[] {
  return [
    r.created,
    r.open,
    r.openValue,
    r.closed,
    r.won,
    r.wonValue,
    figureCell(r.winRate),
    figureCell(r.avgDealSize),
    r.stale,
  ];
}

function periodNote(metrics: PipelineMetrics): string {
  return `Created, closed, won and win rate: ${metrics.period.label}. Open and stale: as of ${metrics.asOf}.`;
}

function breakdownSheet(name: string, b: Breakdown, metrics: PipelineMetrics): SheetSpec {
  return sheet({
    name,
    title: `Pipeline by ${b.dimension.toLowerCase()}`,
    notes: [
      periodNote(metrics),
      ...(b.available ? [] : [`The view has no ${b.dimension.toLowerCase()} column (metrics.columns).`]),
    ],
    columns: [{ header: b.dimension, format: 'text', width: 26 }, ...BREAKDOWN_COLUMNS],
    rows: b.rows.map((r) => [r.group, ...breakdownCells(r)]),
    currency: metrics.currency,
  });
}

function combinedBreakdownSheet(metrics: PipelineMetrics): SheetSpec {
  const missing = metrics.breakdowns.filter((b) => !b.available).map((b) => b.dimension.toLowerCase());
  return sheet({
    name: 'Breakdowns',
    title: 'Pipeline by region, deal size, customer type and lead source',
    notes: [periodNote(metrics), ...(missing.length > 0 ? [`Not in the view: ${missing.join(', ')}.`] : [])],
    columns: [
      { header: 'Dimension', format: 'text', width: 14 },
      { header: 'Group', format: 'text', width: 30 },
      ...BREAKDOWN_COLUMNS,
    ],
    rows: metrics.breakdowns.flatMap((b) => b.rows.map((r) => [b.dimension, r.group, ...breakdownCells(r)])),
    currency: metrics.currency,
  });
}

function monthlySheet(metrics: PipelineMetrics): SheetSpec {
  return sheet({
    name: 'Monthly revenue',
    title: 'Won revenue by month',
    notes: ['Revenue = amounts of deals won, by close month. Growth = (month − previous month) ÷ previous month.'],
    columns: [
      { header: 'Month', format: 'text', width: 24 },
      { header: 'Revenue', format: 'currency', width: 16 },
      { header: 'Won deals', format: 'integer' },
      { header: 'Growth', format: 'percent', width: 30 },
    ],
    rows: metrics.monthlyRevenue.map((m) => [
      m.toDate ? `${m.month} (to ${metrics.asOf})` : m.month,
      m.revenue,
      m.wonDeals,
      figureCell(m.growth),
    ]),
    currency: metrics.currency,
  });
}

function leadTargetSheet(metrics: PipelineMetrics): SheetSpec {
  const t = metrics.leadTarget;
  const actualColumns: SheetColumn[] = [
    { header: t.granularity === 'day' ? 'Date' : 'Week ending', format: 'date', width: 13, align: 'center' },
    { header: 'Days elapsed', format: 'integer', width: 14 },
    { header: 'New pipeline', format: 'currency', width: 16 },
    { header: 'Cumulative actual', format: 'currency', width: 19 },
  ];
  const granularityNote = `One row per ${t.granularity}${t.granularity === 'week' ? ' (7 days counted from the period start; the last may be shorter)' : ''}; new pipeline = amounts of deals created then.`;
  if (t.perDay === null) {
    // Without a target the target, gap and attainment columns would repeat "input missing" on every row; the
    // note says it once, and the actual new pipeline is still worth reading.
    return sheet({
      name: 'Lead target',
      title: 'New pipeline (no lead-generation target set)',
      notes: [
        'input missing (metrics.leadTargetPerDay): set a daily new-pipeline target to compare against.',
        granularityNote,
      ],
      columns: actualColumns,
      rows: t.rows.map((r) => [r.date, r.daysElapsed, r.newPipeline, r.cumulativeActual]),
      currency: metrics.currency,
    });
  }
  return sheet({
    name: 'Lead target',
    title: 'New pipeline against the lead-generation target',
    notes: [
      `Target: ${formatMoney(t.perDay, metrics.currency)} of new pipeline per day, accumulated from ${metrics.period.start}.`,
      granularityNote,
    ],
    columns: [
      ...actualColumns,
      { header: 'Cumulative target', format: 'currency', width: 19 },
      { header: 'Gap', format: 'currency', width: 16 },
      { header: 'Attainment', format: 'percent', width: 13 },
    ],
    rows: t.rows.map((r) => [
      r.date,
      r.daysElapsed,
      r.newPipeline,
      r.cumulativeActual,
      figureCell(r.cumulativeTarget),
      figureCell(r.gap),
      figureCell(r.attainment),
    ]),
    currency: metrics.currency,
  });
}

function trendSheet(metrics: PipelineMetrics, config: MetricsConfig): SheetSpec {
  const terminal = new Set([...config.wonStages, ...config.lostStages]);
  const stages = config.stages.filter((s) => !terminal.has(s));
  const columns: SheetColumn[] = [
    // Dates centred: right-aligned they would run into the text of the next column.
    { header: 'Week starting', format: 'date', width: 13, align: 'center' },
    { header: 'Snapshot', format: 'text', width: 22 },
    // Stage names make long headers; they wrap onto two lines over columns as wide as the numbers need.
    ...stages.flatMap((s): SheetColumn[] => [
      { header: `${s} deals`, format: 'integer', width: 13 },
      { header: `${s} value`, format: 'currency', width: 17 },
    ]),
    { header: 'Open deals', format: 'integer', width: 13 },
    { header: 'Open value', format: 'currency', width: 17 },
  ];
  const trend = metrics.trend;
  if (trend === null) {
    return sheet({
      name: 'Trend',
      title: 'Open pipeline per stage, last 12 weeks',
      notes: ['No snapshot history yet: each run stores a snapshot, and the trend fills in week by week.'],
      columns,
      rows: [],
      currency: metrics.currency,
    });
  }
  const rows = trend.map((w) => {
    const weekStart = parseIsoDay(w.weekStart);
    const start: CellValue = weekStart === undefined ? w.weekStart : fromDay(weekStart);
    if (w.snapshotDate === null)
      return [start, 'n/a (no run that week)', ...stages.flatMap(() => [null, null]), null, null];
    let deals = 0;
    let value = 0;
    const cells = stages.flatMap((s) => {
      const st = w.stages.find((x) => x.stage === s);
      deals += st?.count ?? 0;
      value += st?.value ?? 0;
      return [st?.count ?? 0, st?.value ?? 0];
    });
    return [start, w.snapshotDate, ...cells, deals, value];
  });
  return sheet({
    name: 'Trend',
    title: 'Open pipeline per stage, last 12 weeks',
    notes: [`From the latest snapshot of each week; snapshots since ${metrics.snapshotDates[0] ?? metrics.asOf}.`],
    columns,
    rows,
    currency: metrics.currency,
  });
}

function movesSheet(metrics: PipelineMetrics): SheetSpec | undefined {
  if (metrics.transitions === null) return undefined;
  return sheet({
    name: 'Stage moves',
    title: 'Stage changes seen between snapshots',
    notes: [
      `Snapshots from ${metrics.snapshotDates[0] ?? 'none'} to ${metrics.asOf}. Value = amount when the move was seen.`,
    ],
    columns: [
      { header: 'From', format: 'text', width: 20 },
      { header: 'To', format: 'text', width: 20 },
      { header: 'Direction', format: 'text' },
      { header: 'Moves', format: 'integer' },
      { header: 'Value', format: 'currency', width: 16 },
    ],
    rows: metrics.transitions.map((t) => [t.from, t.to, t.direction, t.moves, t.value]),
    currency: metrics.currency,
  });
}

/**
 * The metric sheets, in reading order: Summary (KPIs with definitions and defined names), Funnel, Stale deals,
 * Unqualified leads, By owner, By product, Breakdowns (region, deal size, customer type, lead source), Monthly
 * revenue, Lead target, Trend, and Stage moves when there is snapshot history.
 */
export function buildMetricSheets(metrics: PipelineMetrics, config: MetricsConfig): SheetSpec[] {
  const specs: SheetSpec[] = [
    summarySheet(metrics, config),
    funnelSheet(metrics),
    staleSheet(metrics, config),
    unqualifiedSheet(metrics, config),
    breakdownSheet('By owner', metrics.byOwner, metrics),
    breakdownSheet('By product', metrics.byProduct, metrics),
    combinedBreakdownSheet(metrics),
    monthlySheet(metrics),
    leadTargetSheet(metrics),
    trendSheet(metrics, config),
  ];
  const moves = movesSheet(metrics);
  if (moves !== undefined) specs.push(moves);
  return specs;
}

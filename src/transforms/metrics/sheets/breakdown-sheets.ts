/** The breakdown sheets: By owner and By product (each with a chart of won value and win rate), and Breakdowns. */
import type { SheetColumn, SheetSpec } from '../../../shared/sheet-spec.js';
import type { CellValue } from '../../../shared/table.js';
import type { Breakdown, BreakdownRow } from '../compute.js';
import { sheet, type SheetContext } from './sheet-context.js';

// Columns of a breakdown row after its group, and where the chart finds won value and win rate among them.
const WON_VALUE = 6;
const WIN_RATE = 7;

function breakdownColumns(ctx: SheetContext): SheetColumn[] {
  const { t } = ctx;
  return [
    { header: t.t('breakdown.column.created'), format: 'integer' },
    { header: t.t('breakdown.column.open'), format: 'integer' },
    { header: t.t('breakdown.column.openValue'), format: 'currency', width: 16 },
    { header: t.t('breakdown.column.closed'), format: 'integer' },
    { header: t.t('breakdown.column.won'), format: 'integer' },
    { header: t.t('breakdown.column.wonValue'), format: 'currency', width: 16 },
    { header: t.t('breakdown.column.winRate'), format: 'percent' },
    { header: t.t('breakdown.column.avgDealSize'), format: 'currency', width: 14 },
    { header: t.t('breakdown.column.stale'), format: 'integer' },
  ];
}

function breakdownCells(ctx: SheetContext, r: BreakdownRow): CellValue[] {
  return [
    r.created,
    r.open,
    r.openValue,
    r.closed,
    r.won,
    r.wonValue,
    ctx.cell(r.winRate),
    ctx.cell(r.avgDealSize),
    r.stale,
  ];
}

function subtitle(ctx: SheetContext): string {
  return ctx.t.t('breakdown.subtitle', { period: ctx.periodPhrase, range: ctx.periodRange, date: ctx.asOfText });
}

/** One dimension (owner, product): a row per group, and a chart of each group's won value and win rate. */
export function breakdownSheet(ctx: SheetContext, name: string, b: Breakdown): SheetSpec {
  const { t } = ctx;
  const dimension = t.t(`dimension.${b.key}.lower`);
  return sheet(ctx, {
    name,
    title: t.t('breakdown.title', { dimension }),
    subtitle: subtitle(ctx),
    notes: b.available ? [] : [t.t('breakdown.missing', { dimension })],
    columns: [{ header: b.dimension, format: 'text', width: 26 }, ...breakdownColumns(ctx)],
    rows: b.rows.map((r) => [r.group, ...breakdownCells(ctx, r)]),
    chart: {
      title: t.t('breakdown.chart.title', { dimension, period: ctx.periodPhrase }),
      categoryColumn: 0,
      categoryAxisTitle: b.dimension,
      valueAxisTitle: t.t('breakdown.chart.values'),
      secondaryAxisTitle: t.t('breakdown.chart.rate'),
      series: [
        { column: WON_VALUE, plot: 'bar', axis: 'primary' },
        // A dot per group: the groups are no sequence, so no line joins them.
        { column: WIN_RATE, plot: 'line', axis: 'secondary', markersOnly: true },
      ],
      emptyNote: t.t('breakdown.chart.empty', { period: ctx.periodPhrase }),
    },
  });
}

/** Region, deal size, customer type and lead source in one table. */
export function combinedBreakdownSheet(ctx: SheetContext): SheetSpec {
  const { metrics, t } = ctx;
  const missing = metrics.breakdowns.filter((b) => !b.available).map((b) => t.t(`dimension.${b.key}.lower`));
  return sheet(ctx, {
    name: t.t('sheet.breakdowns'),
    title: t.t('breakdown.combinedTitle'),
    subtitle: subtitle(ctx),
    notes: missing.length > 0 ? [t.t('breakdown.notInView', { dimensions: t.list(missing) })] : [],
    columns: [
      { header: t.t('breakdown.column.dimension'), format: 'text', width: 14 },
      { header: t.t('breakdown.column.group'), format: 'text', width: 30 },
      ...breakdownColumns(ctx),
    ],
    rows: metrics.breakdowns.flatMap((b) => b.rows.map((r) => [b.dimension, r.group, ...breakdownCells(ctx, r)])),
  });
}

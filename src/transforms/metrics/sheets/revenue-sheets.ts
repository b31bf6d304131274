/** Monthly revenue (revenue and growth per month, with its chart) and Lead target (new pipeline against the target). */
import type { SheetColumn, SheetSpec } from '../../../shared/sheet-spec.js';
import { fromDay, parseIsoDay } from '../dates.js';
import { sheet, type SheetContext } from './sheet-context.js';

const REVENUE = 2;
const GROWTH = 4;

/**
 * Won revenue per month, months as real dates. The month to date says so, and its growth is against the same days
 * of the month before (the "Growth compared with" column names them); a negative growth shows red.
 */
export function monthlySheet(ctx: SheetContext): SheetSpec {
  const { metrics, t } = ctx;
  const months = metrics.monthlyRevenue;
  const first = months[0]?.monthStart ?? ctx.asOf;
  const last = months[months.length - 1]?.monthStart ?? ctx.asOf;
  const span = { from: t.month(first), to: t.month(last) };
  return sheet(ctx, {
    name: t.t('sheet.monthly'),
    title: t.t('monthly.title', span),
    subtitle: t.t('monthly.subtitle'),
    columns: [
      { header: t.t('monthly.column.month'), format: 'month', width: 12, align: 'center' },
      { header: t.t('monthly.column.covers'), format: 'text', width: 26 },
      { header: t.t('monthly.column.revenue'), format: 'currency', width: 16 },
      { header: t.t('monthly.column.wonDeals'), format: 'integer', width: 12 },
      { header: t.t('monthly.column.growth'), format: 'percent', width: 12 },
      { header: t.t('monthly.column.comparedWith'), format: 'text', width: 24 },
    ],
    rows: months.map((m) => [
      m.monthStart,
      m.toDate ? t.t('monthly.monthToDate', { range: t.dayRange(m.monthStart, m.lastDay) }) : t.t('monthly.wholeMonth'),
      m.revenue,
      m.wonDeals,
      ctx.cell(m.growth),
      m.toDate ? t.dayRange(m.comparedFrom, m.comparedTo) : t.month(m.comparedFrom),
    ]),
    negativeRed: [GROWTH],
    chart: {
      title: t.t('monthly.chart.title', span),
      categoryColumn: 0,
      categoryAxisTitle: t.t('monthly.chart.categories'),
      valueAxisTitle: t.t('monthly.chart.values'),
      secondaryAxisTitle: t.t('monthly.chart.growth'),
      series: [
        { column: REVENUE, plot: 'bar', axis: 'primary' },
        { column: GROWTH, plot: 'line', axis: 'secondary' },
      ],
      emptyNote: t.t('monthly.chart.empty', span),
    },
  });
}

/** New pipeline per day or week, cumulated, against the cumulative target (when one is set), with its chart. */
export function leadTargetSheet(ctx: SheetContext): SheetSpec {
  const { metrics, t } = ctx;
  const target = metrics.leadTarget;
  const period = { period: ctx.periodPhrase, range: ctx.periodRange };
  const actualColumns: SheetColumn[] = [
    {
      header: t.t(target.granularity === 'day' ? 'leadTarget.column.date' : 'leadTarget.column.weekEnding'),
      format: 'date',
      width: 13,
      align: 'center',
    },
    { header: t.t('leadTarget.column.daysElapsed'), format: 'integer', width: 14 },
    { header: t.t('leadTarget.column.newPipeline'), format: 'currency', width: 16 },
    { header: t.t('leadTarget.column.cumulativeActual'), format: 'currency', width: 19 },
  ];
  const granularityNote = t.t(
    target.granularity === 'day' ? 'leadTarget.granularity.day' : 'leadTarget.granularity.week',
  );
  const chart = {
    categoryColumn: 0,
    categoryAxisTitle: t.t('leadTarget.chart.categories'),
    valueAxisTitle: t.t('leadTarget.chart.values'),
    emptyNote: t.t('leadTarget.chart.empty', period),
  };
  if (target.perDay === null) {
    // Without a target the target, gap and attainment columns would repeat "input missing" on every row; the
    // note says it once, and the actual new pipeline is still worth reading.
    return sheet(ctx, {
      name: t.t('sheet.leadTarget'),
      title: t.t('leadTarget.titleNoTarget', period),
      notes: [t.t('leadTarget.notConfigured'), granularityNote],
      columns: actualColumns,
      rows: target.rows.map((r) => [r.date, r.daysElapsed, r.newPipeline, r.cumulativeActual]),
      chart: {
        ...chart,
        title: t.t('leadTarget.chart.titleNoTarget', period),
        series: [{ column: 3, plot: 'line', axis: 'primary' }],
      },
    });
  }
  const start = fromDay(parseIsoDay(metrics.period.start) ?? 0);
  return sheet(ctx, {
    name: t.t('sheet.leadTarget'),
    title: t.t('leadTarget.title', period),
    notes: [
      t.t('leadTarget.target', { amount: t.money(target.perDay, metrics.currency), date: t.day(start) }),
      granularityNote,
    ],
    columns: [
      ...actualColumns,
      { header: t.t('leadTarget.column.cumulativeTarget'), format: 'currency', width: 19 },
      { header: t.t('leadTarget.column.gap'), format: 'currency', width: 16 },
      { header: t.t('leadTarget.column.attainment'), format: 'percent', width: 13 },
    ],
    rows: target.rows.map((r) => [
      r.date,
      r.daysElapsed,
      r.newPipeline,
      r.cumulativeActual,
      ctx.cell(r.cumulativeTarget),
      ctx.cell(r.gap),
      ctx.cell(r.attainment),
    ]),
    negativeRed: [5],
    chart: {
      ...chart,
      title: t.t('leadTarget.chart.title', period),
      series: [
        { column: 3, plot: 'line', axis: 'primary' },
        { column: 4, plot: 'line', axis: 'primary', dashed: true },
      ],
    },
  });
}

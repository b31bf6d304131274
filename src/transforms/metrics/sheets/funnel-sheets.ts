/** The Funnel (value per stage, with its chart), and the deal lists: stale deals and unqualified leads. */
import type { SheetSpec } from '../../../shared/sheet-spec.js';
import { sheet, type SheetContext } from './sheet-context.js';

/** Count and value per stage in funnel order, with data bars and a horizontal bar chart of the value. */
export function funnelSheet(ctx: SheetContext): SheetSpec {
  const { metrics, t } = ctx;
  const period = { period: ctx.periodPhrase, range: ctx.periodRange, date: ctx.asOfText };
  return sheet(ctx, {
    name: t.t('sheet.funnel'),
    title: t.t('funnel.title'),
    // The won and lost rows cover the period, where a Tableau view of the same pipeline often shows all time.
    subtitle: t.t('funnel.subtitle', period),
    notes: [
      t.t(metrics.transitions === null ? 'funnel.note.conversion' : 'funnel.note.conversionWithHistory', period),
      ...(metrics.conversionUnknownLost > 0
        ? [t.plural('funnel.note.unknownLost', metrics.conversionUnknownLost)]
        : []),
    ],
    columns: [
      { header: t.t('funnel.column.stage'), format: 'text', width: 22 },
      // Wider than the numbers need: the data bars drawn in these two cells are the funnel.
      { header: t.t('funnel.column.deals'), format: 'integer', width: 14 },
      { header: t.t('funnel.column.value'), format: 'currency', width: 20 },
      { header: t.t('funnel.column.weighted'), format: 'currency', width: 18 },
      { header: t.t('funnel.column.reached'), format: 'integer', width: 16 },
      { header: t.t('funnel.column.movedOn'), format: 'integer', width: 12 },
      { header: t.t('funnel.column.conversion'), format: 'percent', width: 21 },
    ],
    rows: metrics.funnel.map((f) => [
      f.stage,
      f.deals,
      f.value,
      ctx.cell(f.weightedValue),
      f.reached,
      f.movedOn,
      f.conversionToNext === null ? null : ctx.cell(f.conversionToNext),
    ]),
    dataBars: [1, 2],
    chart: {
      title: t.t('funnel.chart.title', period),
      categoryColumn: 0,
      categoryAxisTitle: t.t('funnel.chart.categories'),
      valueAxisTitle: t.t('funnel.chart.values'),
      barDirection: 'bar',
      dataLabels: true,
      series: [{ column: 2, plot: 'bar', axis: 'primary' }],
      emptyNote: t.t('funnel.chart.empty'),
    },
  });
}

/** Open deals past their stage's threshold, worst first. */
export function staleSheet(ctx: SheetContext): SheetSpec {
  const { metrics, config, t } = ctx;
  const thresholds =
    typeof config.staleAfterDays === 'number'
      ? t.t('stale.thresholdAll', { days: config.staleAfterDays })
      : Object.entries(config.staleAfterDays)
          .map(([stage, days]) => t.t('stale.thresholdStage', { stage, days }))
          .join(', ');
  return sheet(ctx, {
    name: t.t('sheet.stale'),
    title: t.t('stale.title', { date: ctx.asOfText }),
    notes: [t.t('stale.note', { thresholds })],
    columns: [
      { header: t.t('stale.column.opportunity'), format: 'text', width: 16 },
      { header: t.t('stale.column.account'), format: 'text', width: 28 },
      { header: t.t('stale.column.owner'), format: 'text', width: 20 },
      { header: t.t('stale.column.stage'), format: 'text', width: 18 },
      { header: t.t('stale.column.daysInStage'), format: 'days', width: 11 },
      { header: t.t('stale.column.threshold'), format: 'days', width: 12 },
      { header: t.t('stale.column.daysOver'), format: 'days', width: 11 },
      { header: t.t('stale.column.amount'), format: 'currency', width: 14 },
      { header: t.t('stale.column.closeDate'), format: 'date', width: 12, align: 'center' },
      { header: t.t('stale.column.daysFrom'), format: 'text', width: 40, wrap: true },
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
  });
}

/** Open deals still unqualified past the deadline, oldest first; without a deadline, what to configure. */
export function unqualifiedSheet(ctx: SheetContext): SheetSpec {
  const { metrics, config, t } = ctx;
  const deals = metrics.unqualifiedDeals;
  return sheet(ctx, {
    name: t.t('sheet.unqualified'),
    title: t.t('unqualified.title', { date: ctx.asOfText }),
    notes:
      deals === null
        ? [t.t('unqualified.notConfigured')]
        : [
            t.t('unqualified.note', {
              stages: t.list(metrics.qualificationStages),
              days: config.qualifyWithinDays ?? 0,
            }),
          ],
    columns: [
      { header: t.t('stale.column.opportunity'), format: 'text', width: 16 },
      { header: t.t('stale.column.account'), format: 'text', width: 28 },
      { header: t.t('stale.column.owner'), format: 'text', width: 20 },
      { header: t.t('stale.column.stage'), format: 'text', width: 18 },
      { header: t.t('unqualified.column.daysSinceCreated'), format: 'days', width: 14 },
      { header: t.t('stale.column.amount'), format: 'currency', width: 14 },
    ],
    rows: (deals ?? []).map((d) => [d.id, d.account, d.owner, d.stage, d.daysSinceCreated, d.amount]),
  });
}

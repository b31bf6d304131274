/** What only snapshot history shows: the 12-week Trend (with its stacked chart) and the Stage moves. */
import type { MessageKey } from '../../../shared/i18n/translator.js';
import type { SheetColumn, SheetSpec } from '../../../shared/sheet-spec.js';
import type { CellValue } from '../../../shared/table.js';
import type { TransitionCount } from '../compute.js';
import { fromDay, parseIsoDay } from '../dates.js';
import { sheet, type SheetContext } from './sheet-context.js';

/** The words of a move's direction; `other` is a move to or from a stage outside `metrics.stages`. */
const DIRECTION: Readonly<Record<TransitionCount['direction'], MessageKey>> = {
  forward: 'direction.forward',
  backward: 'direction.backward',
  won: 'direction.won',
  lost: 'direction.lost',
  other: 'direction.outside',
};

function dateCell(iso: string): CellValue {
  const day = parseIsoDay(iso);
  return day === undefined ? iso : fromDay(day);
}

/** Open deals and value per open stage for each of the last 12 weeks, and their values stacked per week. */
export function trendSheet(ctx: SheetContext): SheetSpec {
  const { metrics, config, t } = ctx;
  const terminal = new Set([...config.wonStages, ...config.lostStages]);
  const stages = config.stages.filter((s) => !terminal.has(s));
  const columns: SheetColumn[] = [
    // Dates centred: right-aligned they would run into the text of the next column.
    { header: t.t('trend.column.weekStarting'), format: 'date', width: 13, align: 'center' },
    { header: t.t('trend.column.snapshot'), format: 'date', width: 22, align: 'center' },
    // Stage names make long headers; they wrap onto two lines over columns as wide as the numbers need.
    ...stages.flatMap((stage): SheetColumn[] => [
      { header: t.t('trend.column.stageDeals', { stage }), format: 'integer', width: 13 },
      { header: t.t('trend.column.stageValue', { stage }), format: 'currency', width: 17 },
    ]),
    { header: t.t('trend.column.openDeals'), format: 'integer', width: 13 },
    { header: t.t('trend.column.openValue'), format: 'currency', width: 17 },
  ];
  const chart = {
    title: t.t('trend.chart.title', { date: ctx.asOfText }),
    categoryColumn: 0,
    categoryAxisTitle: t.t('trend.chart.categories'),
    valueAxisTitle: t.t('trend.chart.values'),
    stacked: true,
    series: stages.map((_, i) => ({ column: 3 + 2 * i, plot: 'bar' as const, axis: 'primary' as const })),
    emptyNote: t.t('trend.chart.empty'),
  };
  const base = { name: t.t('sheet.trend'), title: t.t('trend.title', { date: ctx.asOfText }), columns, chart };
  const trend = metrics.trend;
  if (trend === null) return sheet(ctx, { ...base, notes: [t.t('trend.noHistory')], rows: [] });
  const noRun = t.t('format.na', { reason: t.t('reason.noRunThatWeek') });
  const rows = trend.map((w) => {
    const start = dateCell(w.weekStart);
    if (w.snapshotDate === null) return [start, noRun, ...stages.flatMap(() => [null, null]), null, null];
    let deals = 0;
    let value = 0;
    const cells = stages.flatMap((s) => {
      const st = w.stages.find((x) => x.stage === s);
      deals += st?.count ?? 0;
      value += st?.value ?? 0;
      return [st?.count ?? 0, st?.value ?? 0];
    });
    return [start, dateCell(w.snapshotDate), ...cells, deals, value];
  });
  const since = parseIsoDay(metrics.snapshotDates[0] ?? metrics.asOf);
  return sheet(ctx, {
    ...base,
    notes: [t.t('trend.note', { date: since === undefined ? ctx.asOfText : t.day(fromDay(since)) })],
    rows,
  });
}

/** Stage-to-stage moves seen between snapshots; undefined without snapshot history. */
export function movesSheet(ctx: SheetContext): SheetSpec | undefined {
  const { metrics, t } = ctx;
  if (metrics.transitions === null) return undefined;
  const first = parseIsoDay(metrics.snapshotDates[0] ?? metrics.asOf);
  return sheet(ctx, {
    name: t.t('sheet.moves'),
    title: t.t('moves.title', { range: t.dayRange(first === undefined ? ctx.asOf : fromDay(first), ctx.asOf) }),
    notes: [t.t('moves.note')],
    columns: [
      { header: t.t('moves.column.from'), format: 'text', width: 20 },
      { header: t.t('moves.column.to'), format: 'text', width: 20 },
      { header: t.t('moves.column.direction'), format: 'text', width: 14 },
      { header: t.t('moves.column.moves'), format: 'integer' },
      { header: t.t('moves.column.value'), format: 'currency', width: 16 },
    ],
    rows: metrics.transitions.map((m) => [m.from, m.to, t.t(DIRECTION[m.direction]), m.moves, m.value]),
  });
}

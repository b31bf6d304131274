/**
 * The Summary: when the workbook was refreshed (with a link to About), what changed since the last refresh, then
 * every configured KPI with its value, unit, definition, period and the count it rests on, then a short "Not
 * configured" block naming the setting each missing KPI needs. The Value column holds numbers only (or a bare
 * `n/a`, whose reason is a note under the table), so it reads, sorts and sums as numbers.
 */
import type { MessageKey, Translator } from '../../../shared/i18n/translator.js';
import type { CellFormat, SheetBlock, SheetColumn, SheetSpec } from '../../../shared/sheet-spec.js';
import { isoWithOffset, zonedParts } from '../../../shared/time.js';
import type { Kpi, KpiUnit } from '../compute.js';
import { fromDay, parseIsoDay } from '../dates.js';
import { resolveDefinition, type KpiKey } from '../definitions.js';
import { isAvailable } from '../figure.js';
import type { SinceLastRun } from '../since-last-run.js';
import { sheet, type SheetContext } from './sheet-context.js';

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

/** How a KPI's value cell is formatted: one Value column, each cell in the format of its unit. */
const VALUE_FORMAT: Readonly<Record<KpiUnit, CellFormat>> = {
  currency: 'currency',
  currencyPerDay: 'currency',
  percent: 'percent',
  ratio: 'percent',
  days: 'days',
  count: 'integer',
};

/** What each setting a KPI can be missing is, for the "Not configured" block. */
const SETTING_TEXT: Readonly<Record<string, MessageKey>> = {
  'metrics.quota': 'setting.quota',
  'metrics.leadTargetPerDay': 'setting.leadTargetPerDay',
  'metrics.qualifyWithinDays': 'setting.qualifyWithinDays',
  'metrics.spend': 'setting.spend',
  'metrics.clv.lifetimeYears': 'setting.clv',
};

const VALUE_COLUMN = 1;

/** When the workbook was refreshed: the run's start instant and the export's IANA zone. */
export interface RefreshTime {
  readonly at: Date;
  readonly timeZone: string;
  /**
   * How old the data is (freshness guard): the oldest extract refresh behind the sheets, `live` when every checked
   * view reads a live connection; absent when it was not checked (no line then).
   */
  readonly dataAsOf?: Date | 'live' | undefined;
  /** A burst part's value (`EMEA`): the Summary's title says whose pipeline it is. */
  readonly part?: string | undefined;
}

export interface SummaryInput {
  readonly refresh: RefreshTime | undefined;
  /** The comparison with the last refresh; null on the first run; undefined when no snapshot history is kept. */
  readonly sinceLastRun: SinceLastRun | null | undefined;
  /** The wanted name of the About sheet, for the link to it. */
  readonly aboutSheet: string;
}

function unitText(unit: KpiUnit, currency: string, t: Translator): string {
  switch (unit) {
    case 'currency':
      return currency;
    case 'currencyPerDay':
      return t.t('unit.perDay', { currency });
    case 'percent':
      return t.t('unit.percent');
    case 'ratio':
      return t.t('unit.ofQuota');
    case 'days':
      return t.t('unit.days');
    case 'count':
      return t.t('unit.deals');
  }
}

function summaryColumns(t: Translator): SheetColumn[] {
  return [
    { header: t.t('summary.column.kpi'), format: 'text', width: 30, wrap: true },
    // Numbers only (and a bare n/a): wide enough for the refresh date and time above the table.
    { header: t.t('summary.column.value'), format: 'number', width: 18, align: 'right' },
    // Centred, so it stands apart from the right-aligned value before it.
    { header: t.t('summary.column.unit'), format: 'text', width: 14, align: 'center' },
    { header: t.t('summary.column.definition'), format: 'text', width: 50, wrap: true },
    { header: t.t('summary.column.period'), format: 'text', width: 24, wrap: true },
    // Centred, so the count does not run into the words of the Counting column next to it.
    { header: t.t('summary.column.basedOn'), format: 'integer', width: 11, align: 'center' },
    { header: t.t('summary.column.counting'), format: 'text', width: 30, wrap: true },
  ];
}

/** The Summary sheet (printed on one page). */
export function summarySheet(ctx: SheetContext, input: SummaryInput): SheetSpec {
  const { metrics, config, t } = ctx;
  const configured = metrics.kpis.filter((k) => isAvailable(k.value) || k.value.kind !== 'input missing');
  const definedNames: { name: string; row: number; column: number }[] = [];
  const rows = configured.map((k: Kpi, rowIndex) => {
    const name = KPI_DEFINED_NAMES[k.key];
    if (name !== undefined) definedNames.push({ name, row: rowIndex, column: VALUE_COLUMN });
    return [
      k.label,
      isAvailable(k.value) ? k.value : t.t('format.naShort'),
      unitText(k.unit, metrics.currency, t),
      resolveDefinition(k.key, config, config.definitions, t),
      k.period,
      k.basis.count,
      k.basis.of,
    ];
  });
  const columns = summaryColumns(t);
  const before = [
    ...(input.refresh === undefined ? [] : [refreshBlock(ctx, input.refresh, input.aboutSheet)]),
    sinceBlock(ctx, input.sinceLastRun),
  ];
  const notConfigured = notConfiguredBlock(ctx, metrics.kpis);
  return sheet(ctx, {
    name: t.t('sheet.summary'),
    title:
      input.refresh?.part === undefined
        ? t.t('summary.title', { date: ctx.asOfText })
        : t.t('summary.titleOfPart', { part: input.refresh.part, date: ctx.asOfText }),
    before,
    columns,
    rows,
    cellFormats: configured.map((k) => columns.map((_, i) => (i === VALUE_COLUMN ? VALUE_FORMAT[k.unit] : undefined))),
    ...(notConfigured === undefined ? {} : { after: [notConfigured] }),
    notes: [
      t.plural('summary.note.deals', metrics.dealCount, {
        sheet: config.from,
        period: ctx.periodPhrase,
        range: ctx.periodRange,
        date: ctx.asOfText,
      }),
      ...unavailableNotes(configured, t),
      ...metrics.notes.map((note) => t.t('summary.note.data', { note })),
    ],
    definedNames,
    printOnOnePage: true,
  });
}

/** "n/a: Win rate, Average deal size: no deals in the view." — one note per reason. */
function unavailableNotes(kpis: readonly Kpi[], t: Translator): string[] {
  const byReason = new Map<string, string[]>();
  for (const k of kpis) {
    if (isAvailable(k.value)) continue;
    const labels = byReason.get(k.value.reason) ?? [];
    labels.push(k.label);
    byReason.set(k.value.reason, labels);
  }
  return [...byReason.entries()].map(([reason, labels]) => t.t('summary.note.na', { kpi: t.list(labels), reason }));
}

/** The refresh time as a date-time cell in the export's zone, the zone's name, and the link to About. */
function refreshBlock(ctx: SheetContext, refresh: RefreshTime, aboutSheet: string): SheetBlock {
  const { t } = ctx;
  const p = zonedParts(refresh.at, refresh.timeZone);
  const wall = new Date(Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second));
  const offset = isoWithOffset(refresh.at, refresh.timeZone).slice(-6);
  const dataRows = refresh.dataAsOf === undefined ? [] : [dataAsOfRow(ctx, refresh.dataAsOf, refresh.timeZone)];
  return {
    rows: [
      [t.t('summary.refreshed'), wall, t.t('about.zone', { zone: refresh.timeZone, offset })],
      ...dataRows,
      [t.t('summary.aboutLink')],
    ],
    columns: [undefined, { format: 'datetime', align: 'left' }, { align: 'left' }],
    boldRows: [0],
    links: [{ row: 1 + dataRows.length, column: 0, sheet: aboutSheet }],
  };
}

/** "Data as of" with the extract's refresh as a date-time in the export's zone, or "live connection". */
function dataAsOfRow(ctx: SheetContext, dataAsOf: Date | 'live', timeZone: string): (string | Date)[] {
  const { t } = ctx;
  if (dataAsOf === 'live') return [t.t('summary.dataAsOf'), t.t('freshness.live')];
  const p = zonedParts(dataAsOf, timeZone);
  return [t.t('summary.dataAsOf'), new Date(Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second))];
}

/** What changed since the last refresh, or one line saying why there is nothing to compare with yet. */
function sinceBlock(ctx: SheetContext, since: SinceLastRun | null | undefined): SheetBlock {
  const { t } = ctx;
  if (since === undefined || since === null) {
    return {
      header: [t.t('since.headerFirst')],
      rows: [[t.t(since === null ? 'since.none' : 'since.noHistory')]],
      spanFrom: 0,
    };
  }
  const day = parseIsoDay(since.previousRunDate);
  const line = (
    label: MessageKey,
    definition: MessageKey,
    c: { deals: number; value: number },
  ): (string | number)[] => [t.t(label), c.deals, c.value, t.t(definition)];
  return {
    header: [
      t.t('since.header', { date: day === undefined ? since.previousRunDate : t.day(fromDay(day)) }),
      t.t('since.deals'),
      t.t('since.value'),
      t.t('since.whatCounts'),
    ],
    rows: [
      line('since.created', 'since.created.definition', since.created),
      line('since.won', 'since.won.definition', since.won),
      line('since.lost', 'since.lost.definition', since.lost),
      line('since.forward', 'since.forward.definition', since.movedForward),
      line('since.backward', 'since.backward.definition', since.movedBackward),
      line('since.added', 'since.added.definition', since.valueAdded),
      line('since.removed', 'since.removed.definition', since.valueRemoved),
    ],
    // The deals count under Value, their value under Unit (right-aligned money), what counts under Definition
    // (indented, so it does not run into the money).
    columns: [undefined, { format: 'integer' }, { format: 'currency', align: 'right' }, { indent: 1 }],
  };
}

/** One row per missing setting: the KPIs that need it, and what to add. Undefined when every KPI is configured. */
function notConfiguredBlock(ctx: SheetContext, kpis: readonly Kpi[]): SheetBlock | undefined {
  const { t } = ctx;
  const bySetting = new Map<string, string[]>();
  for (const k of kpis) {
    if (isAvailable(k.value) || k.value.kind !== 'input missing') continue;
    const labels = bySetting.get(k.value.reason) ?? [];
    labels.push(k.label);
    bySetting.set(k.value.reason, labels);
  }
  if (bySetting.size === 0) return undefined;
  return {
    header: [t.t('summary.notConfigured'), t.t('summary.notConfigured.setting')],
    rows: [...bySetting.entries()].map(([setting, labels]) => {
      const what = SETTING_TEXT[setting];
      return [
        t.list(labels),
        what === undefined ? setting : t.t('summary.notConfigured.add', { setting, what: t.t(what) }),
      ];
    }),
    // The setting spans the rest of the row, left-aligned: text, not a value under the Value column.
    spanFrom: 1,
    columns: [undefined, { format: 'text', align: 'left', wrap: true }],
  };
}

/**
 * What every metric sheet is built from: the metrics, the config, the texts of the workbook's language, the period
 * as a phrase and as dates, and the money format; plus the last guard every sheet goes through (no NaN, no Infinity,
 * no empty Excel table).
 */
import { createTranslator, type Translator } from '../../../shared/i18n/translator.js';
import type { SheetSpec } from '../../../shared/sheet-spec.js';
import type { CellValue } from '../../../shared/table.js';
import type { PipelineMetrics } from '../compute.js';
import type { MetricsConfig } from '../config.js';
import { fromDay, parseIsoDay } from '../dates.js';
import { figureCell, type Figure } from '../figure.js';

export interface SheetContext {
  readonly metrics: PipelineMetrics;
  readonly config: MetricsConfig;
  readonly t: Translator;
  /** asOf, and asOf as text (`27 Nov 2026`). */
  readonly asOf: Date;
  readonly asOfText: string;
  /** The period as a phrase (`the last 365 days`, `since 1 Jan 2026`) and as its dates (`28 Nov 2025 – 27 Nov 2026`). */
  readonly periodPhrase: string;
  readonly periodRange: string;
  /** What every sheet's money cells are shown with: the currency and 0 or 2 decimals. */
  readonly money: Pick<SheetSpec, 'currency' | 'currencyDecimals'>;
  /** A cell for a value that may be unavailable: the number, or `n/a (reason)` in the workbook's language. */
  cell(f: Figure): number | string;
}

/** The context of `metrics` (computed in the workbook's language); `cents` overrides whether money shows cents. */
export function createSheetContext(
  metrics: PipelineMetrics,
  config: MetricsConfig,
  cents: boolean | undefined,
): SheetContext {
  const t = createTranslator(metrics.language);
  const asOf = fromDay(parseIsoDay(metrics.asOf) ?? 0);
  const start = fromDay(parseIsoDay(metrics.period.start) ?? 0);
  const texts = {
    na: (reason: string): string => t.t('format.na', { reason }),
    inputMissing: (setting: string): string => t.t('format.inputMissing', { setting }),
  };
  return {
    metrics,
    config,
    t,
    asOf,
    asOfText: t.day(asOf),
    periodPhrase:
      'lastDays' in config.period
        ? t.plural('period.lastDays', config.period.lastDays)
        : t.t('period.since', { date: t.day(start) }),
    periodRange: metrics.period.label,
    money: { currency: metrics.currency, currencyDecimals: (cents ?? metrics.amountsHaveCents) ? 2 : 0 },
    cell: (f) => figureCell(f, texts),
  };
}

/**
 * A sheet spec made safe, with the workbook's money format: a non-finite number never reaches a cell (last line of
 * defence: it becomes `n/a (not a finite number)`), and no Excel table is left without rows (empty sheets show their
 * notes instead).
 */
export function sheet(ctx: SheetContext, spec: SheetSpec): SheetSpec {
  const notFinite = ctx.t.t('format.na', { reason: ctx.t.t('reason.notFinite') });
  const safeCell = (value: CellValue): CellValue => {
    if (typeof value === 'number' && !Number.isFinite(value)) return notFinite;
    if (value instanceof Date && Number.isNaN(value.getTime())) return null;
    return value;
  };
  const rows = spec.rows.map((r) => r.map(safeCell));
  return { ...ctx.money, ...spec, rows, ...(rows.length === 0 ? { asTable: false } : {}) };
}

/**
 * The definition printed next to each KPI in the Summary sheet. Definitions differ between CRMs and BI tools, so the
 * workbook always says which one it used; `metrics.definitions.<key>` replaces any of these texts (the computation
 * does not change — use the variant settings such as `winRate` or `averageDealSize` for that). The texts are the
 * catalogue's `definition.*` messages, in the workbook's language. Among them: the win rate counts lost deals but
 * not open ones (the CRM default); average deal size over won deals is the reference's `$1,000 over 10 won deals →
 * $100`; the sales cycle its `60 days over 10 deals → 6 days`; the lead target its `$250 a day → $7,500 in a
 * 30-day month`; CAC its `$10,000 for 100 new customers → $100`.
 */
import type { Translator } from '../../shared/i18n/translator.js';

/** Every KPI of the Summary sheet, in the order it is shown. */
export const KPI_KEYS = [
  'pipelineValue',
  'weightedPipelineValue',
  'openDeals',
  'coverage',
  'coverageRemaining',
  'winRate',
  'avgDealSize',
  'avgSalesCycle',
  'salesVelocity',
  'leadConversion',
  'wonRevenue',
  'revenueGrowth',
  'newPipeline',
  'leadTarget',
  'leadTargetAttainment',
  'staleDeals',
  'staleValue',
  'unqualifiedDeals',
  'unqualifiedValue',
  'cac',
  'clv',
] as const;

export type KpiKey = (typeof KPI_KEYS)[number];

/** The variant settings that change a definition's wording. */
export interface DefinitionVariants {
  readonly winRate: 'count' | 'byValue' | 'wonOverCreated';
  readonly averageDealSize: 'won' | 'closed' | 'all';
}

/** The default definition of a KPI for the given variants, in `t`'s language. */
export function defaultDefinition(key: KpiKey, variants: DefinitionVariants, t: Translator): string {
  if (key === 'winRate') return t.t(`definition.winRate.${variants.winRate}`);
  if (key === 'avgDealSize') return t.t(`definition.avgDealSize.${variants.averageDealSize}`);
  return t.t(`definition.${key}`);
}

/** The definition printed for a KPI: the configured override, else the default for the configured variant. */
export function resolveDefinition(
  key: KpiKey,
  variants: DefinitionVariants,
  overrides: Readonly<Record<string, string>> | undefined,
  t: Translator,
): string {
  return overrides?.[key] ?? defaultDefinition(key, variants, t);
}

/**
 * The definition printed next to each KPI in the Summary sheet. Definitions differ between CRMs and BI tools, so the
 * workbook always says which one it used; `metrics.definitions.<key>` replaces any of these texts (the computation
 * does not change — use the variant settings such as `winRate` or `averageDealSize` for that).
 */

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

const WIN_RATE: Readonly<Record<DefinitionVariants['winRate'], string>> = {
  /** The CRM default: lost deals count, open deals do not. */
  count: 'Won deals ÷ (won + lost deals), deals closed in the period',
  /** Weighted by money: a large loss weighs more than a small win. */
  byValue: 'Won value ÷ (won + lost value), deals closed in the period',
  /** Cohort view: of the deals created in the period, the share already won (open ones count as not won yet). */
  wonOverCreated: 'Deals created in the period and won ÷ all deals created in the period',
};

const AVG_DEAL_SIZE: Readonly<Record<DefinitionVariants['averageDealSize'], string>> = {
  /** The article's definition: $1,000 over 10 won deals → $100. */
  won: 'Won revenue ÷ number of won deals, deals closed in the period',
  /** Includes lost deals, so it describes what the team works on rather than what it wins. */
  closed: 'Total amount of closed (won + lost) deals ÷ their number, deals closed in the period',
  /** Everything in the view that was closed in the period or is still open. */
  all: 'Total amount of deals closed in the period or still open ÷ their number',
};

/** Definitions that do not depend on a variant. */
const FIXED: Readonly<Record<Exclude<KpiKey, 'winRate' | 'avgDealSize'>, string>> = {
  /** Open deals only: won and lost deals are no longer pipeline. */
  pipelineValue: 'Sum of the amounts of all open deals (not won, not lost) as of the run date',
  /** Uses the view's probability column; deals without a probability are left out. */
  weightedPipelineValue: 'Sum over open deals of amount × probability',
  openDeals: 'Number of open deals (not won, not lost) as of the run date',
  /** Coverage of 3× is a common rule of thumb. */
  coverage: 'Open pipeline value ÷ quota (metrics.quota)',
  coverageRemaining: 'Open pipeline value ÷ (quota − revenue won in the period)',
  /** The article's 60 days over 10 deals → 6 days. */
  avgSalesCycle: 'Σ (close date − created date) ÷ number of won deals, deals won in the period',
  /** Money the pipeline produces per day at the current rates. */
  salesVelocity: '(open deals × average deal size × win rate) ÷ average sales cycle, in currency per day',
  /** Distinct from the win rate: measures how many leads become qualified opportunities. */
  leadConversion:
    'Deals created in the period that progressed past the lead stage(s) ÷ deals created in the period (lost deals count only when snapshots show the stage they reached)',
  wonRevenue: 'Sum of the amounts of deals won (closed) in the period',
  /** The article's formula, over calendar months. */
  revenueGrowth: "(last full month's won revenue − the month before's) ÷ the month before's",
  newPipeline: 'Sum of the amounts of deals created in the period, whatever their stage now',
  /** The article's $250 a day → $7,500 in a 30-day month. */
  leadTarget: 'Daily new-pipeline target (metrics.leadTargetPerDay) × days in the period',
  leadTargetAttainment: 'New pipeline created in the period ÷ lead-generation target',
  /** Mistakes 3 and 4: how long may a deal stay in a stage before it counts as stuck. */
  staleDeals: 'Open deals whose days in their stage exceed the stage threshold (metrics.staleAfterDays)',
  staleValue: 'Sum of the amounts of stale deals',
  /** Mistake 2: unqualified leads kept too long. */
  unqualifiedDeals: 'Open deals still in a qualification stage more than metrics.qualifyWithinDays days after creation',
  unqualifiedValue: 'Sum of the amounts of unqualified deals past the deadline',
  /** The article's $10,000 for 100 new customers → $100. */
  cac: 'Sales + marketing spend (metrics.spend) ÷ new customers won in the period',
  clv: 'Average revenue per customer per year × expected lifetime in years (× gross margin when given)',
};

/** The default definition of a KPI for the given variants. */
export function defaultDefinition(key: KpiKey, variants: DefinitionVariants): string {
  if (key === 'winRate') return WIN_RATE[variants.winRate];
  if (key === 'avgDealSize') return AVG_DEAL_SIZE[variants.averageDealSize];
  return FIXED[key];
}

/** The definition printed for a KPI: the configured override, else the default for the configured variant. */
export function resolveDefinition(
  key: KpiKey,
  variants: DefinitionVariants,
  overrides: Readonly<Record<string, string>> | undefined,
): string {
  return overrides?.[key] ?? defaultDefinition(key, variants);
}

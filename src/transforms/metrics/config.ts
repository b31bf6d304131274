/**
 * The `metrics:` block of an export: which view feeds the metrics, how its columns map to deal fields, the stages,
 * thresholds, targets and the variants of each definition. Parsed by zod (every key described), then checked by
 * {@link checkMetricsConfig} for what the schema alone cannot say.
 */
import { z } from 'zod';
import { KPI_KEYS } from './definitions.js';
import { parseIsoDay } from './dates.js';

export const DEFAULT_STAGES: readonly string[] = [
  'Lead Generation',
  'Qualification',
  'Contact',
  'Proposal',
  'Closing',
  'Closed Won',
  'Closed Lost',
];

/**
 * Column names used for the optional fields when the config does not name them. A default that the view does not
 * have simply leaves the field empty; a name set explicitly must exist in the view.
 */
export const DEFAULT_OPTIONAL_COLUMNS = {
  stageEnteredDate: 'Stage Entered Date',
  won: 'Is Won',
  closed: 'Is Closed',
  account: 'Account',
  owner: 'Owner',
  region: 'Region',
  product: 'Product',
  customerType: 'Type',
  leadSource: 'Lead Source',
  probability: 'Probability',
} as const;

export type OptionalDealColumn = keyof typeof DEFAULT_OPTIONAL_COLUMNS;

const columnName = z.string().trim().min(1);
const optionalColumn = (what: string, key: OptionalDealColumn): z.ZodOptional<z.ZodNullable<z.ZodString>> =>
  columnName
    .nullable()
    .optional()
    .describe(
      `${what}. Default "${DEFAULT_OPTIONAL_COLUMNS[key]}" when the view has it; null = this view has no such column`,
    );

const stageName = z.string().trim().min(1);
const isoDate = z.iso.date('expected a date as YYYY-MM-DD');

export const metricsColumnsSchema = z
  .strictObject({
    id: columnName.default('Opportunity ID').describe('Column with the opportunity (deal) id'),
    stage: columnName.default('Stage').describe('Column with the current stage name'),
    amount: columnName
      .default('Amount')
      .describe('Column with the deal amount (numbers or display text like "$45,047")'),
    createdDate: columnName.default('Created Date').describe('Column with the date the deal was created'),
    closeDate: columnName.default('Close Date').describe('Column with the (expected or actual) close date'),
    stageEnteredDate: optionalColumn(
      'Column with the date the deal entered its current stage (else derived from snapshots, then from the created date)',
      'stageEnteredDate',
    ),
    won: optionalColumn('Column with a won flag (True/False)', 'won'),
    closed: optionalColumn('Column with a closed flag (True/False)', 'closed'),
    account: optionalColumn('Column with the customer account (counts distinct new customers for CAC/CLV)', 'account'),
    owner: optionalColumn('Column with the owner (sales rep)', 'owner'),
    region: optionalColumn('Column with the region', 'region'),
    product: optionalColumn('Column with the product (category)', 'product'),
    customerType: optionalColumn('Column saying new business or existing customer', 'customerType'),
    leadSource: optionalColumn('Column with the lead source', 'leadSource'),
    probability: optionalColumn('Column with the win probability (0.4, 40 or "40%")', 'probability'),
  })
  .describe('Which column of the view holds each deal field');

export const metricsConfigSchema = z
  .strictObject({
    from: z.string().trim().min(1).describe('The sheet (view) of this export whose rows are the deals'),
    columns: metricsColumnsSchema.prefault({}),
    stages: z
      .array(stageName)
      .min(2)
      .default([...DEFAULT_STAGES])
      .describe('All stages in funnel order, open stages first, then the won and lost stages'),
    wonStages: z
      .array(stageName)
      .default(['Closed Won'])
      .describe('Stage names that mean won (used when there is no won flag column)'),
    lostStages: z
      .array(stageName)
      .default(['Closed Lost'])
      .describe('Stage names that mean lost (used when there is no closed flag column)'),
    leadStages: z
      .array(stageName)
      .min(1)
      .optional()
      .describe('Stages a deal is still a lead in, for the lead conversion rate (default: the first stage)'),
    qualificationStages: z
      .array(stageName)
      .min(1)
      .optional()
      .describe(
        'Stages a deal is still unqualified in, for the qualification deadline (default: the first two open stages)',
      ),
    staleAfterDays: z
      .union([z.number().int().positive(), z.record(stageName, z.number().int().positive())])
      .default(30)
      .describe(
        'Days a deal may stay in a stage before it counts as stale: one number for all open stages, or per stage name (stages not listed are not checked)',
      ),
    qualifyWithinDays: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('Days after creation by which a deal must have left the qualification stages'),
    leadTargetPerDay: z
      .number()
      .nonnegative()
      .optional()
      .describe('Target of new pipeline value created per calendar day'),
    quota: z.number().positive().optional().describe('Revenue quota for the period, for pipeline coverage'),
    spend: z
      .number()
      .nonnegative()
      .optional()
      .describe('Sales + marketing spend in the period, for the customer acquisition cost'),
    clv: z
      .strictObject({
        lifetimeYears: z.number().positive().describe('Expected customer lifetime in years'),
        revenuePerCustomerPerYear: z
          .number()
          .positive()
          .optional()
          .describe(
            'Average revenue per customer per year (default: won revenue per customer in the period, annualised)',
          ),
        grossMargin: z
          .number()
          .gt(0)
          .max(1)
          .optional()
          .describe('Gross margin as a fraction (0.7); omit for revenue-based CLV'),
      })
      .optional()
      .describe('Inputs of the customer lifetime value; without them CLV shows "input missing"'),
    currency: z.string().trim().min(1).default('$').describe('Currency symbol or code for money columns'),
    winRate: z
      .enum(['count', 'byValue', 'wonOverCreated'])
      .default('count')
      .describe(
        'Win rate definition: count = won ÷ (won + lost); byValue = won value ÷ closed value; wonOverCreated = won ÷ created in the period',
      ),
    averageDealSize: z
      .enum(['won', 'closed', 'all'])
      .default('won')
      .describe('Average deal size over won deals (default), all closed deals, or closed + open deals'),
    period: z
      .union([
        z.strictObject({
          lastDays: z.number().int().positive().describe('The period is the last N days up to asOf, inclusive'),
        }),
        z.strictObject({ from: isoDate.describe('The period runs from this date to asOf, inclusive') }),
      ])
      .default({ lastDays: 365 })
      .describe('Period of the flow metrics (won, lost, created); open pipeline is always as of the run date'),
    dealSizeBands: z
      .array(z.number().positive())
      .min(1)
      .default([10_000, 50_000, 100_000])
      .describe('Upper bounds of the deal-size bands, ascending (amount < bound)'),
    customerTypes: z
      .strictObject({
        new: z
          .array(z.string().trim().min(1))
          .default(['New Business', 'New', 'New Customer', 'New Logo'])
          .describe('Values of the customer-type column meaning a new customer'),
        existing: z
          .array(z.string().trim().min(1))
          .default([
            'Existing Customer',
            'Existing',
            'Existing Business',
            'Renewal',
            'Upsell',
            'Expansion',
            'Cross-sell',
          ])
          .describe('Values of the customer-type column meaning an existing customer'),
      })
      .prefault({})
      .describe('How to read the customer-type column (case-insensitive)'),
    definitions: z
      .record(z.string(), z.string().trim().min(1))
      .optional()
      .describe(`Printed definition per KPI, replacing the default text; keys: ${KPI_KEYS.join(', ')}`),
    asOf: isoDate
      .transform((text) => new Date(`${text}T00:00:00Z`))
      .optional()
      .describe('Fixed "today" of the metrics (YYYY-MM-DD); default: the run date in the export\'s time zone'),
    snapshots: z
      .strictObject({
        retentionDays: z
          .number()
          .int()
          .positive()
          .default(400)
          .describe('Snapshots older than this many days are pruned'),
        historyDays: z
          .number()
          .int()
          .min(84)
          .default(91)
          .describe(
            'Days of snapshots read to derive stage entry dates and the 12-week trend (reading cost grows with days × deals)',
          ),
      })
      .prefault({})
      .describe('Per-opportunity history kept in the state store'),
  })
  .describe('Pipeline metrics computed from one sheet of the export (omit to turn metrics off)');

/** The parsed `metrics:` block. */
export type MetricsConfig = z.output<typeof metricsConfigSchema>;
/** The `metrics:` block as written in YAML (defaults not yet applied). */
export type MetricsConfigInput = z.input<typeof metricsConfigSchema>;

export interface MetricsConfigIssue {
  /** Path inside the `metrics` block, e.g. `['staleAfterDays', 'Negociation']`. */
  readonly path: (string | number)[];
  readonly message: string;
}

/**
 * Cross-field rules of a parsed metrics block. Returns every issue (empty when valid), so the config loader can
 * report them all at once.
 */
export function checkMetricsConfig(config: MetricsConfig): MetricsConfigIssue[] {
  const issues: MetricsConfigIssue[] = [];
  const known = new Set(config.stages);
  const list = (): string => config.stages.map((s) => `"${s}"`).join(', ');
  const checkListed = (key: string, names: readonly string[] | undefined): void => {
    names?.forEach((name, i) => {
      if (!known.has(name))
        issues.push({ path: [key, i], message: `stage "${name}" is not in metrics.stages (${list()})` });
    });
  };

  const seen = new Set<string>();
  config.stages.forEach((s, i) => {
    const k = s.toLowerCase();
    if (seen.has(k)) issues.push({ path: ['stages', i], message: `stage "${s}" is listed twice` });
    seen.add(k);
  });
  checkListed('wonStages', config.wonStages);
  checkListed('lostStages', config.lostStages);
  checkListed('leadStages', config.leadStages);
  checkListed('qualificationStages', config.qualificationStages);
  for (const s of config.wonStages) {
    if (config.lostStages.includes(s))
      issues.push({ path: ['lostStages'], message: `stage "${s}" is both won and lost` });
  }

  const terminal = new Set([...config.wonStages, ...config.lostStages]);
  const open = config.stages.filter((s) => !terminal.has(s));
  if (open.length === 0)
    issues.push({
      path: ['stages'],
      message: 'every stage is a won or lost stage; list the open stages too, in funnel order',
    });
  for (const key of ['leadStages', 'qualificationStages'] as const) {
    config[key]?.forEach((s, i) => {
      if (terminal.has(s))
        issues.push({
          path: [key, i],
          message: `stage "${s}" is a won/lost stage; only open stages can be ${key === 'leadStages' ? 'lead' : 'qualification'} stages`,
        });
    });
  }

  if (typeof config.staleAfterDays === 'object') {
    for (const name of Object.keys(config.staleAfterDays).sort()) {
      if (!known.has(name))
        issues.push({
          path: ['staleAfterDays', name],
          message: `stage "${name}" is not in metrics.stages (${list()})`,
        });
      else if (terminal.has(name))
        issues.push({
          path: ['staleAfterDays', name],
          message: `stage "${name}" is a won/lost stage; staleness applies to open stages only`,
        });
    }
  }

  // Either flags or stage names must tell won and lost deals apart (columns set to null = the view has no flags).
  if (config.columns.won === null && config.wonStages.length === 0) {
    issues.push({
      path: ['wonStages'],
      message:
        'no won flag column (columns.won is null) and no wonStages: set one of them so won deals can be recognised',
    });
  }
  if (config.columns.closed === null && config.lostStages.length === 0) {
    issues.push({
      path: ['lostStages'],
      message:
        'no closed flag column (columns.closed is null) and no lostStages: set one of them so lost deals can be recognised',
    });
  }

  for (let i = 1; i < config.dealSizeBands.length; i += 1) {
    if ((config.dealSizeBands[i] ?? 0) <= (config.dealSizeBands[i - 1] ?? 0)) {
      issues.push({ path: ['dealSizeBands', i], message: 'deal-size band bounds must be strictly ascending' });
    }
  }

  const kpiKeys = new Set<string>(KPI_KEYS);
  for (const key of Object.keys(config.definitions ?? {}).sort()) {
    if (!kpiKeys.has(key))
      issues.push({ path: ['definitions', key], message: `unknown KPI "${key}"; known: ${KPI_KEYS.join(', ')}` });
  }

  if ('from' in config.period && config.asOf !== undefined) {
    const from = parseIsoDay(config.period.from);
    if (from !== undefined && from * 86_400_000 > config.asOf.getTime()) {
      issues.push({ path: ['period', 'from'], message: `period starts (${config.period.from}) after asOf` });
    }
  }

  if (config.snapshots.historyDays > config.snapshots.retentionDays) {
    issues.push({
      path: ['snapshots', 'historyDays'],
      message: 'historyDays is longer than retentionDays: history would be pruned before it is read',
    });
  }
  return issues;
}

/**
 * The snapshot dates of a run: the run date stored, the first date read back for history, and the date before which
 * snapshots are pruned. All `YYYY-MM-DD`, from `asOf` (a wall-clock date in UTC fields).
 */
export function snapshotWindow(
  config: MetricsConfig,
  asOf: Date,
): { runDate: string; loadSince: string; pruneBefore: string } {
  const day = Math.floor(asOf.getTime() / 86_400_000);
  const iso = (d: number): string => new Date(d * 86_400_000).toISOString().slice(0, 10);
  return {
    runDate: iso(day),
    loadSince: iso(day - config.snapshots.historyDays),
    pruneBefore: iso(day - config.snapshots.retentionDays),
  };
}

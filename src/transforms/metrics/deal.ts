/**
 * Deals: the rows of the metrics view read into domain values. The collector locates the mapped columns once
 * (failing fast with METRICS_COLUMN_MISSING), then reads each typed row tolerantly: display strings for amounts and
 * booleans are accepted, unreadable values are counted per field and left blank, never thrown.
 */
import type { ColumnSpec, TypedRow } from '../../shared/table.js';
import type { MetricsConfig, OptionalDealColumn } from './config.js';
import { fromDay } from './dates.js';
import { locateDealColumns, type DealColumns } from './deal-columns.js';
import { BAD, readAmount, readBoolean, readDay, readProbability, readText, type Read } from './parse-values.js';

export type DealOutcome = 'open' | 'won' | 'lost';

/** Fields read from a value that may be unreadable (and are then counted in {@link DealDataQuality.badValues}). */
export type CheckedField =
  'amount' | 'probability' | 'createdDate' | 'closeDate' | 'stageEnteredDate' | 'won' | 'closed';

/** How a checked field is named in warnings and notes ("an unreadable close date"). */
export const CHECKED_FIELD_LABEL: Readonly<Record<CheckedField, string>> = {
  amount: 'amount',
  probability: 'probability',
  createdDate: 'created date',
  closeDate: 'close date',
  stageEnteredDate: 'stage entered date',
  won: 'won flag',
  closed: 'closed flag',
};

export interface Deal {
  readonly id: string;
  /** The configured stage name when the view's value matches one (case-insensitively), else the view's text. */
  readonly stage: string;
  /** False when the stage is not one of `metrics.stages`: such deals are left out of per-stage figures. */
  readonly stageKnown: boolean;
  /** From the won/closed flags when the view has them, else from the won/lost stage names. */
  readonly outcome: DealOutcome;
  readonly amount: number | null;
  /** Win probability as a fraction 0–1. */
  readonly probability: number | null;
  /** Calendar dates at UTC midnight. */
  readonly createdDate: Date | null;
  readonly closeDate: Date | null;
  readonly stageEnteredDate: Date | null;
  readonly account: string | null;
  readonly owner: string | null;
  readonly region: string | null;
  readonly product: string | null;
  readonly leadSource: string | null;
  /** `new` / `existing` when the customer-type value is one of `metrics.customerTypes`, else null. */
  readonly customerType: 'new' | 'existing' | null;
  /** The customer-type value as shown in the view. */
  readonly customerTypeLabel: string | null;
  /** Fields of this row whose value could not be read (they are null above). */
  readonly problems: readonly CheckedField[];
}

export interface DealDataQuality {
  readonly rows: number;
  /** Rows left out because their id cell was blank. */
  readonly rowsWithoutId: number;
  /** Ids seen more than once (every row is kept; history uses the first). */
  readonly duplicateIds: number;
  /** Unreadable values per field. */
  readonly badValues: Readonly<Partial<Record<CheckedField, number>>>;
  /** Stage values that are not in `metrics.stages`, with their row counts. */
  readonly unknownStages: Readonly<Record<string, number>>;
  /** Customer-type values that are in neither `metrics.customerTypes` list, with their row counts. */
  readonly unrecognisedCustomerTypes: Readonly<Record<string, number>>;
  /** Deal fields the view does not provide. */
  readonly absentFields: readonly OptionalDealColumn[];
}

export interface DealCollector {
  /** Reads one typed row of the metrics view. */
  observe(row: TypedRow): void;
  /** The deals read so far, in row order. */
  deals(): Deal[];
  /** Counts of unreadable or unexpected values, for run warnings. */
  quality(): DealDataQuality;
  /**
   * True when the view shows its amounts with cents (a number format with decimals, `"$"#,##0.00`): the metric
   * sheets then show money with cents too, so every sheet has one currency format.
   */
  amountShowsCents(): boolean;
}

/** The tallies of unexpected values a collector keeps, filled in as rows are read. */
interface Tallies {
  readonly badValues: Partial<Record<CheckedField, number>>;
  readonly unknownStages: Record<string, number>;
  readonly unrecognisedCustomerTypes: Record<string, number>;
}

function cellAt(row: TypedRow, index: number): TypedRow[number] {
  return index < 0 ? null : (row[index] ?? null);
}

function textAt(row: TypedRow, index: number): string | null {
  return readText(cellAt(row, index));
}

/**
 * The reader of one row (whose id is already read) of a located view: stage names matched to the configured ones,
 * outcome from the won/closed flags or else the stage names, customer types classified. Unreadable values are
 * left blank and counted in `tallies`, as are unknown stages and customer types.
 */
function createDealReader(
  config: MetricsConfig,
  located: DealColumns,
  tallies: Tallies,
): (row: TypedRow, id: string) => Deal {
  const { required, optional } = located;
  const { badValues, unknownStages, unrecognisedCustomerTypes } = tallies;
  const stageByKey = new Map(config.stages.map((s) => [s.trim().toLowerCase(), s]));
  const wonStages = new Set(config.wonStages);
  const lostStages = new Set(config.lostStages);
  const newTypes = new Set(config.customerTypes.new.map((t) => t.toLowerCase()));
  const existingTypes = new Set(config.customerTypes.existing.map((t) => t.toLowerCase()));

  return (row, id) => {
    const problems: CheckedField[] = [];
    const checked = <T>(field: CheckedField, value: Read<T>): T | null => {
      if (value !== BAD) return value;
      problems.push(field);
      badValues[field] = (badValues[field] ?? 0) + 1;
      return null;
    };
    const day = (field: CheckedField, index: number): Date | null => {
      const d = checked(field, readDay(cellAt(row, index)));
      return d === null ? null : fromDay(d);
    };

    const stageText = textAt(row, required.stage) ?? '';
    const configuredStage = stageByKey.get(stageText.toLowerCase());
    if (configuredStage === undefined) unknownStages[stageText] = (unknownStages[stageText] ?? 0) + 1;
    const stage = configuredStage ?? stageText;

    const wonFlag = optional.won < 0 ? null : checked('won', readBoolean(cellAt(row, optional.won)));
    const closedFlag = optional.closed < 0 ? null : checked('closed', readBoolean(cellAt(row, optional.closed)));
    // Flags, when present and readable, are what the CRM says; stage names are the fallback.
    const won = wonFlag ?? wonStages.has(stage);
    const closed = won || (closedFlag ?? (lostStages.has(stage) || wonStages.has(stage)));

    const typeLabel = textAt(row, optional.customerType);
    const typeKey = typeLabel?.toLowerCase();
    const customerType =
      typeKey === undefined ? null : newTypes.has(typeKey) ? 'new' : existingTypes.has(typeKey) ? 'existing' : null;
    if (typeLabel !== null && customerType === null)
      unrecognisedCustomerTypes[typeLabel] = (unrecognisedCustomerTypes[typeLabel] ?? 0) + 1;

    return {
      id,
      stage,
      stageKnown: configuredStage !== undefined,
      outcome: won ? 'won' : closed ? 'lost' : 'open',
      amount: checked('amount', readAmount(cellAt(row, required.amount))),
      probability:
        optional.probability < 0 ? null : checked('probability', readProbability(cellAt(row, optional.probability))),
      createdDate: day('createdDate', required.createdDate),
      closeDate: day('closeDate', required.closeDate),
      stageEnteredDate: optional.stageEnteredDate < 0 ? null : day('stageEnteredDate', optional.stageEnteredDate),
      account: textAt(row, optional.account),
      owner: textAt(row, optional.owner),
      region: textAt(row, optional.region),
      product: textAt(row, optional.product),
      leadSource: textAt(row, optional.leadSource),
      customerType,
      customerTypeLabel: typeLabel,
      problems,
    };
  };
}

/**
 * Creates the collector for the metrics view `config.from` with the given typed columns.
 * @throws SourceError `METRICS_COLUMN_MISSING` naming every mapped column the view lacks and the columns it has —
 *   a required column (id, stage, amount, created date, close date), an optional column named explicitly in the
 *   config, or the won flag when there is no won flag column and no `wonStages` (see {@link locateDealColumns}).
 */
export function createDealCollector(columns: readonly ColumnSpec[], config: MetricsConfig): DealCollector {
  const located = locateDealColumns(columns, config);
  const tallies: Tallies = { badValues: {}, unknownStages: {}, unrecognisedCustomerTypes: {} };
  const readDeal = createDealReader(config, located, tallies);
  const deals: Deal[] = [];
  const seenIds = new Set<string>();
  let rows = 0;
  let rowsWithoutId = 0;
  let duplicateIds = 0;

  return {
    observe(row) {
      rows += 1;
      const id = textAt(row, located.required.id);
      if (id === null) {
        rowsWithoutId += 1;
        return;
      }
      if (seenIds.has(id)) duplicateIds += 1;
      else seenIds.add(id);
      deals.push(readDeal(row, id));
    },
    deals() {
      return [...deals];
    },
    quality() {
      return {
        rows,
        rowsWithoutId,
        duplicateIds,
        badValues: { ...tallies.badValues },
        unknownStages: { ...tallies.unknownStages },
        unrecognisedCustomerTypes: { ...tallies.unrecognisedCustomerTypes },
        absentFields: [...located.absentFields],
      };
    },
    amountShowsCents() {
      const format = columns[located.required.amount]?.numFmt ?? '';
      return /0\.0/.test(format);
    },
  };
}

function listCounts(counts: Readonly<Record<string, number>>, limit = 5): string {
  const entries = Object.entries(counts).sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0));
  const shown = entries.slice(0, limit).map(([value, n]) => `"${value === '' ? '(blank)' : value}" (${n})`);
  return entries.length > limit ? `${shown.join(', ')} and ${entries.length - limit} more` : shown.join(', ');
}

/**
 * Run warnings for what the collector could not read, one sentence each, each saying how to fix it (empty when the
 * view was clean). Columns the config left at their default and the view lacks are not warned about.
 */
export function describeDealQuality(q: DealDataQuality, sheet: string): string[] {
  const warnings: string[] = [];
  if (q.rowsWithoutId > 0)
    warnings.push(
      `metrics: ${q.rowsWithoutId} of ${q.rows} rows of "${sheet}" have no opportunity id and were left out (check metrics.columns.id)`,
    );
  if (q.duplicateIds > 0)
    warnings.push(
      `metrics: ${q.duplicateIds} rows of "${sheet}" repeat an opportunity id (is the view at deal level?)`,
    );
  for (const field of Object.keys(CHECKED_FIELD_LABEL) as CheckedField[]) {
    const n = q.badValues[field] ?? 0;
    if (n > 0)
      warnings.push(
        `metrics: ${n} rows of "${sheet}" have an unreadable ${CHECKED_FIELD_LABEL[field]}, treated as blank`,
      );
  }
  if (Object.keys(q.unknownStages).length > 0) {
    warnings.push(
      `metrics: stages not in metrics.stages: ${listCounts(q.unknownStages)}; add them to metrics.stages in funnel order`,
    );
  }
  if (Object.keys(q.unrecognisedCustomerTypes).length > 0) {
    warnings.push(
      `metrics: customer types that are neither new nor existing: ${listCounts(q.unrecognisedCustomerTypes)}; list them in metrics.customerTypes`,
    );
  }
  return warnings;
}

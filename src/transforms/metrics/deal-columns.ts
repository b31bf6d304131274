/**
 * Where the mapped deal fields are in the metrics view: the columns are located once, by exact name, else by
 * trimmed case-insensitive name, and every mapped column the view lacks is reported in one error.
 */
import { SourceError } from '../../shared/errors.js';
import type { ColumnSpec } from '../../shared/table.js';
import { DEFAULT_OPTIONAL_COLUMNS, type MetricsConfig, type OptionalDealColumn } from './config.js';

const REQUIRED = ['id', 'stage', 'amount', 'createdDate', 'closeDate'] as const;
type RequiredField = (typeof REQUIRED)[number];

/** Column index of each deal field; -1 when the view has no such column (optional fields only). */
export interface DealColumns {
  readonly required: Readonly<Record<RequiredField, number>>;
  readonly optional: Readonly<Record<OptionalDealColumn, number>>;
  /** Optional fields the view does not provide. */
  readonly absentFields: readonly OptionalDealColumn[];
}

function findColumn(columns: readonly ColumnSpec[], name: string): number {
  const exact = columns.findIndex((c) => c.name === name);
  if (exact >= 0) return exact;
  const wanted = name.trim().toLowerCase();
  return columns.findIndex((c) => c.name.trim().toLowerCase() === wanted);
}

function missingColumnsError(
  missing: readonly { field: string; column: string }[],
  columns: readonly ColumnSpec[],
  config: MetricsConfig,
): SourceError {
  const names = columns.map((c) => `"${c.name}"`).join(', ');
  const what = missing.map((m) => `"${m.column}" (metrics.columns.${m.field})`).join(', ');
  return new SourceError(
    'METRICS_COLUMN_MISSING',
    `metrics: column${missing.length > 1 ? 's' : ''} ${what} not found in sheet "${config.from}"; its columns are ${names === '' ? '(none)' : names}`,
    {
      hint: `set metrics.columns.${missing[0]?.field ?? 'id'} to one of the sheet's columns${missing.some((m) => m.field in DEFAULT_OPTIONAL_COLUMNS) ? ' (or null for an optional column the view does not have)' : ''}`,
      details: { sheet: config.from, missing: missing.map((m) => m.column), available: columns.map((c) => c.name) },
    },
  );
}

/**
 * Locates the deal fields of `config.columns` in the view's typed columns. An optional field left at its default
 * name may be absent; one named explicitly may not.
 * @throws SourceError `METRICS_COLUMN_MISSING` naming every mapped column the view lacks and the columns it has —
 *   a required column (id, stage, amount, created date, close date), an optional column named explicitly in the
 *   config, or the won flag when there is no won flag column and no `wonStages`.
 */
export function locateDealColumns(columns: readonly ColumnSpec[], config: MetricsConfig): DealColumns {
  const missing: { field: string; column: string }[] = [];
  const required = {} as Record<RequiredField, number>;
  for (const field of REQUIRED) {
    const name = config.columns[field];
    const index = findColumn(columns, name);
    if (index < 0) missing.push({ field, column: name });
    required[field] = index;
  }
  const optional = {} as Record<OptionalDealColumn, number>;
  const absentFields: OptionalDealColumn[] = [];
  for (const field of Object.keys(DEFAULT_OPTIONAL_COLUMNS) as OptionalDealColumn[]) {
    const configured = config.columns[field];
    const index = configured === null ? -1 : findColumn(columns, configured ?? DEFAULT_OPTIONAL_COLUMNS[field]);
    if (index < 0 && typeof configured === 'string') missing.push({ field, column: configured });
    if (index < 0) absentFields.push(field);
    optional[field] = index;
  }
  if (optional.won < 0 && config.wonStages.length === 0 && !missing.some((m) => m.field === 'won')) {
    missing.push({ field: 'won', column: DEFAULT_OPTIONAL_COLUMNS.won });
  }
  if (missing.length > 0) throw missingColumnsError(missing, columns, config);
  return { required, optional, absentFields };
}

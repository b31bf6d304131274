/**
 * `vf_` view filters and `maxAge` for Query View Data. Tableau matches filter values exactly, treats a comma as OR,
 * needs `\,` for a literal comma, and silently ignores what it does not understand (operators, wrong field names),
 * so the encoding has to be right: there is no error to tell us otherwise.
 */
import { SourceError } from '../../shared/errors.js';

export interface ViewDataQueryInput {
  readonly filters: Readonly<Record<string, readonly string[]>>;
  readonly parameters: Readonly<Record<string, string>>;
  readonly maxAgeMinutes: number;
}

/**
 * Encodes the accepted values of one filter: each value percent-encoded with its literal commas written `\,`,
 * values joined with `,` (OR). An empty list gives an empty value, which clears the filter saved in the workbook.
 */
export function encodeViewFilterValues(values: readonly string[]): string {
  return values.map((v) => v.split(',').map(encodeURIComponent).join('\\,')).join(',');
}

/**
 * Builds the query string of `GET …/views/{id}/data`: `maxAge` always first, then `vf_<field>` filters and
 * `vf_Parameters.<name>` parameters, in a stable (sorted) order so requests are reproducible in logs.
 * @throws SourceError `TABLEAU_INVALID_MAX_AGE` when maxAge is not a whole number of minutes ≥ 1.
 */
export function buildViewDataQuery(input: ViewDataQueryInput): string {
  const { maxAgeMinutes } = input;
  if (!Number.isInteger(maxAgeMinutes) || maxAgeMinutes < 1) {
    throw new SourceError(
      'TABLEAU_INVALID_MAX_AGE',
      `maxAge must be a whole number of minutes ≥ 1, got ${String(maxAgeMinutes)}`,
      {
        hint: 'set maxAgeMinutes to 1 (the shortest cache Tableau allows) or more',
      },
    );
  }
  const parts = [`maxAge=${maxAgeMinutes}`];
  for (const field of Object.keys(input.filters).sort()) {
    parts.push(`vf_${encodeURIComponent(field)}=${encodeViewFilterValues(input.filters[field] ?? [])}`);
  }
  for (const name of Object.keys(input.parameters).sort()) {
    parts.push(`vf_Parameters.${encodeURIComponent(name)}=${encodeURIComponent(input.parameters[name] ?? '')}`);
  }
  return parts.join('&');
}

/** Human-readable filters for provenance and messages: `Region = EMEA | NA; Parameters.Quarter = Q3`. */
export function describeViewFilters(
  filters: Readonly<Record<string, readonly string[]>>,
  parameters: Readonly<Record<string, string>>,
): string {
  const parts = [
    ...Object.keys(filters)
      .sort()
      .map((f) => `${f} = ${(filters[f] ?? []).length === 0 ? '(all)' : (filters[f] ?? []).join(' | ')}`),
    ...Object.keys(parameters)
      .sort()
      .map((p) => `Parameters.${p} = ${parameters[p] ?? ''}`),
  ];
  return parts.length === 0 ? '(none)' : parts.join('; ');
}

/**
 * Verifies that Tableau applied the requested `vf_` filters. Tableau fails silently: a wrong field caption, an
 * operator or an unmatched value returns 200 with unfiltered or empty data. So after the fetch we check the rows
 * themselves and turn what we find into run-report warnings.
 *
 * Pure: no I/O. Feed every row to `observe`, then read `result()`.
 */
import type { RawRow } from '../shared/table.js';
import { parseDisplayNumber } from './display-values.js';

export interface FilterCheckResult {
  readonly warnings: string[];
  readonly rowCount: number;
  /** No rows: the filter matched nothing, or the view is empty. */
  readonly empty: boolean;
  /** Some filtered column holds values outside the requested set: the filter was not applied. */
  readonly unfiltered: boolean;
}

interface FieldCheck {
  readonly field: string;
  readonly index: number;
  readonly requested: readonly string[];
  readonly accepted: Set<string>;
  /** Requested values that read as numbers, so `45047` accepts the display value `$45,047`. */
  readonly numbers: ReadonlySet<number>;
  outside: number;
  readonly examples: string[];
}

const MAX_EXAMPLES = 3;

/** `East\,West` is one value with a literal comma (Tableau's escape in `vf_` lists). */
function unescapeFilterValue(value: string): string {
  return value.replaceAll('\\,', ',');
}

function formatRequest(field: string, values: readonly string[]): string {
  return `${field}=[${values.join(', ')}]`;
}

/**
 * Starts a check of `filters` (field caption → accepted values) against rows with this header. Matching is
 * exact, as Tableau's is, except that a requested `true`/`false` matches Tableau's `True`/`False` rendering and a
 * requested number matches its display form (`45047` ↔ `$45,047`). A field with no values, or only '', is an
 * explicit "all values" and is not checked.
 */
export function createFilterCheck(
  header: readonly string[],
  filters: Readonly<Record<string, readonly string[]>>,
): { observe(row: RawRow): void; result(): FilterCheckResult } {
  const warnings: string[] = [];
  const checks: FieldCheck[] = [];
  for (const [field, values] of Object.entries(filters)) {
    const requested = values.map(unescapeFilterValue).filter((value) => value !== '');
    const index = header.indexOf(field);
    if (index < 0) {
      warnings.push(
        `filter ${formatRequest(field, values)} cannot be verified: "${field}" is not a column of the view ` +
          '(Tableau silently ignores a filter on an unknown field; check the field caption, including its case)',
      );
      continue;
    }
    if (requested.length === 0) continue;
    const accepted = new Set(requested);
    for (const value of requested) {
      const lower = value.toLowerCase();
      if (lower === 'true' || lower === 'false') {
        const title = lower === 'true' ? 'True' : 'False';
        accepted.add(title);
        accepted.add(lower);
        accepted.add(lower.toUpperCase());
      }
    }
    const numbers = new Set<number>();
    for (const value of requested) {
      const number = parseDisplayNumber(value);
      if (number !== undefined) numbers.add(number);
    }
    checks.push({ field, index, requested, accepted, numbers, outside: 0, examples: [] });
  }
  let rowCount = 0;

  return {
    observe(row: RawRow): void {
      rowCount += 1;
      for (const check of checks) {
        const value = row[check.index] ?? '';
        if (check.accepted.has(value)) continue;
        if (check.numbers.size > 0) {
          const number = parseDisplayNumber(value);
          if (number !== undefined && check.numbers.has(number)) continue;
        }
        check.outside += 1;
        if (check.examples.length < MAX_EXAMPLES && !check.examples.includes(value)) check.examples.push(value);
      }
    },
    result(): FilterCheckResult {
      const all = [...warnings];
      let unfiltered = false;
      for (const check of checks) {
        if (check.outside === 0) continue;
        unfiltered = true;
        const examples = check.examples.map((value) => JSON.stringify(value)).join(', ');
        all.push(
          `filter ${formatRequest(check.field, check.requested)} was not applied: ${check.outside.toLocaleString('en-US')} of ` +
            `${rowCount.toLocaleString('en-US')} rows have other values (e.g. ${examples}); values must match exactly ` +
            '(case, spelling, date format), and operators or wildcards are ignored by Tableau',
        );
      }
      const empty = rowCount === 0;
      if (empty) {
        const filtered = Object.keys(filters).length > 0;
        all.push(
          filtered
            ? `the view returned no rows: the filters ${Object.entries(filters)
                .map(([field, values]) => formatRequest(field, values))
                .join(', ')} matched nothing, or the view is empty; check the values (exact match)`
            : 'the view returned no rows',
        );
      }
      return { warnings: all, rowCount, empty, unfiltered };
    },
  };
}

/** The About sheet: when the workbook was refreshed, from what, by which run (pure). */
import type { SheetSpec } from '../shared/sheet-spec.js';
import type { RunTrigger, TableUpdateSummary } from '../contracts/run-report.js';

export interface AboutInput {
  readonly exportId: string;
  readonly description: string | undefined;
  /** ISO 8601 with offset. */
  readonly refreshedAt: string;
  readonly timezone: string;
  readonly runId: string;
  readonly trigger: RunTrigger;
  readonly toolVersion: string;
  readonly destination: string;
  readonly sheets: readonly {
    readonly sheet: string;
    readonly rows: number;
    readonly source: string;
    readonly filters: string;
    readonly provenance: Readonly<Record<string, string>>;
  }[];
  readonly warnings: readonly string[];
  /** Update mode: what each refreshed table of the team's workbook kept, added and removed. */
  readonly updates?: readonly TableUpdateSummary[] | undefined;
}

function describeTrigger(t: RunTrigger): string {
  switch (t.kind) {
    case 'manual':
      return `manual (by ${t.by})`;
    case 'schedule':
      return t.scheduledFor === undefined ? 'schedule' : `schedule (${t.scheduledFor})`;
    case 'catch-up':
      return 'catch-up after downtime';
    case 'cli':
      return 'command line';
  }
}

// Readable labels for the provenance keys sources write; any other key is spelled out from its camelCase.
const PROVENANCE_LABELS: Readonly<Record<string, string>> = {
  source: 'Source type',
  server: 'Server',
  productVersion: 'Server version',
  apiVersion: 'REST API version',
  viewId: 'View ID',
  contentUrl: 'Content URL',
  viewUrl: 'View URL',
  maxAge: 'Max age (minutes)',
  fetchedAt: 'Fetched at (UTC)',
};

/** `fetchedAt` → `Fetched at`, `file` → `File`. */
function provenanceLabel(key: string): string {
  const known = PROVENANCE_LABELS[key];
  if (known !== undefined) return known;
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .trim()
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

type AboutRow = readonly [string | null, string | number | null];
const BLANK_LINE: AboutRow = [null, null];

/**
 * Builds the About sheet as key/value rows: the run first, then one block per data sheet (its source, row count,
 * filters and provenance, under a blank line), then any warnings. Values are left-aligned and wrap, so long URLs
 * and descriptions stay readable; row counts are numbers with thousands separators.
 */
export function buildAboutSheet(input: AboutInput): SheetSpec {
  const rows: AboutRow[] = [
    ['Export', input.exportId],
    ...(input.description === undefined ? [] : [['Description', input.description] as const]),
    ['Refreshed at', input.refreshedAt],
    ['Time zone', input.timezone],
    ['Run id', input.runId],
    ['Triggered by', describeTrigger(input.trigger)],
    ['Delivered to', input.destination],
    ['Tool version', `tableau-excel-export ${input.toolVersion}`],
  ];
  for (const s of input.sheets) {
    const block: (readonly [string, string | number])[] = [
      ['Sheet', s.sheet],
      ['  Source', s.source],
      ['  Rows', s.rows],
    ];
    if (s.filters !== '') block.push(['  Filters', s.filters]);
    for (const [key, value] of Object.entries(s.provenance)) {
      const label = `  ${provenanceLabel(key)}`;
      // The same fact under the same label once is enough (filters are in both places).
      if (!block.some(([existing]) => existing.toLowerCase() === label.toLowerCase())) block.push([label, value]);
    }
    rows.push(BLANK_LINE, ...block);
  }
  for (const u of input.updates ?? []) rows.push(BLANK_LINE, ...describeUpdate(u));
  if (input.warnings.length > 0) {
    rows.push(BLANK_LINE);
    for (const w of input.warnings) rows.push(['Warning', w]);
  }
  return {
    name: 'About',
    title: 'About this workbook',
    columns: [
      { header: 'Item', format: 'text', width: 24 },
      { header: 'Value', format: 'text', width: 90, wrap: true, align: 'left' },
    ],
    rows: rows.map(([k, v]) => [k, v]),
    cellFormats: rows.map(([, v]) => (typeof v === 'number' ? [undefined, 'integer'] : undefined)),
    asTable: false,
  };
}

/** One refreshed table of the team's workbook: the team's columns kept, the columns added, the rows removed. */
function describeUpdate(u: TableUpdateSummary): AboutRow[] {
  const list = (names: readonly string[]): string => (names.length === 0 ? 'none' : names.join(', '));
  const rows: AboutRow[] = [
    ['Team table refreshed', u.table],
    ["  Team's columns kept by key", list(u.teammateColumns)],
    ["  Team's formulas extended", list(u.calculatedColumns)],
    ['  Columns added', list(u.addedColumns)],
  ];
  for (const d of u.droppedRows) rows.push(['  Row removed (key left the view)', `${d.key}: ${d.values.join(' | ')}`]);
  return rows;
}

/** The About sheet: when the workbook was refreshed, from what, by which run (pure). */
import type { SheetSpec } from '../shared/sheet-spec.js';
import type { RunTrigger } from './report.js';

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

/** Builds the About sheet as key/value rows, one block per data sheet. */
export function buildAboutSheet(input: AboutInput): SheetSpec {
  const rows: (readonly [string, string | number])[] = [
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
    rows.push(['Sheet', s.sheet], ['  Source', s.source], ['  Rows', s.rows]);
    if (s.filters !== '') rows.push(['  Filters', s.filters]);
    for (const [k, v] of Object.entries(s.provenance)) rows.push([`  ${k}`, v]);
  }
  if (input.warnings.length > 0) for (const w of input.warnings) rows.push(['Warning', w]);
  return {
    name: 'About',
    title: `About this workbook`,
    columns: [
      { header: 'Item', format: 'text', width: 22 },
      { header: 'Value', format: 'text', width: 90 },
    ],
    rows: rows.map(([k, v]) => [k, v]),
    asTable: false,
  };
}

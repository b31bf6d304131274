/** The About sheet: when the workbook was refreshed, from what, by which run (pure), in the workbook's language. */
import type { SheetSpec } from '../shared/sheet-spec.js';
import { createTranslator, type Language, type MessageKey, type Translator } from '../shared/i18n/translator.js';
import type { RunTrigger, TableUpdateSummary } from '../contracts/run-report.js';

export interface AboutInput {
  readonly exportId: string;
  readonly description: string | undefined;
  /** ISO 8601 with offset, in the export's zone. */
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
  /**
   * Freshness guard: the oldest data behind the sheets (ISO 8601 with offset, in the export's zone), or `live` when
   * every checked view reads a live connection; absent when no view was checked.
   */
  readonly dataAsOf?: string | undefined;
  /** Run warnings, as the run report has them (the run report's language, English). */
  readonly warnings: readonly string[];
  /** Update mode: what each refreshed table of the team's workbook kept, added and removed. */
  readonly updates?: readonly TableUpdateSummary[] | undefined;
  /** Default `en`. */
  readonly language?: Language;
}

function describeTrigger(t: RunTrigger, texts: Translator): string {
  switch (t.kind) {
    case 'manual':
      return texts.t('about.trigger.manual', { by: t.by });
    case 'schedule':
      return t.scheduledFor === undefined
        ? texts.t('about.trigger.schedule')
        : texts.t('about.trigger.scheduleAt', { at: t.scheduledFor });
    case 'catch-up':
      return texts.t('about.trigger.catchUp');
    case 'cli':
      return texts.t('about.trigger.cli');
  }
}

// Readable labels for the provenance keys sources write; any other key is spelled out from its camelCase.
const PROVENANCE_LABELS: Readonly<Record<string, MessageKey>> = {
  source: 'about.provenance.source',
  server: 'about.provenance.server',
  productVersion: 'about.provenance.productVersion',
  apiVersion: 'about.provenance.apiVersion',
  viewId: 'about.provenance.viewId',
  contentUrl: 'about.provenance.contentUrl',
  viewUrl: 'about.provenance.viewUrl',
  maxAge: 'about.provenance.maxAge',
  fetchedAt: 'about.provenance.fetchedAt',
  dataAsOf: 'about.provenance.dataAsOf',
  file: 'about.provenance.file',
  filters: 'about.provenance.filters',
};

// The kinds of source the sources name in their descriptions and provenance (`source: csv file`), in English.
const SOURCE_KINDS: readonly (readonly [string, MessageKey])[] = [
  ['Tableau view', 'about.sourceKind.tableau'],
  ['CSV file', 'about.sourceKind.csv'],
];

/** `fetchedAt` → `Fetched at`, `file` → `File`. */
function provenanceLabel(key: string, t: Translator): string {
  const known = PROVENANCE_LABELS[key];
  if (known !== undefined) return t.t(known);
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .trim()
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** A source description (`Tableau view Sales / Opportunities (url)`) with its kind in the workbook's language. */
function localizeSource(text: string, t: Translator): string {
  for (const [english, key] of SOURCE_KINDS) {
    if (text.toLowerCase() === english.toLowerCase()) return t.t(key);
    if (text.startsWith(`${english} `)) return `${t.t(key)} ${text.slice(english.length + 1)}`;
  }
  return text;
}

/** The destination's description; a local file's kind in the workbook's language. */
function localizeDestination(text: string, t: Translator): string {
  const prefix = 'local file ';
  return text.startsWith(prefix) ? t.t('about.localFile', { path: text.slice(prefix.length) }) : text;
}

/** The wall-clock date and time of an ISO 8601 timestamp with offset, as a Date in UTC fields; undefined if unreadable. */
function wallClock(iso: string): Date | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})/.exec(iso);
  if (m === null) return undefined;
  return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
}

type AboutValue = string | number | Date | null;
type AboutRow = readonly [string | null, AboutValue];
const BLANK_LINE: AboutRow = [null, null];

/**
 * Builds the About sheet as key/value rows: the run first (the refresh time as a real date-time in the export's
 * zone, and as ISO 8601 text), then one block per data sheet (its source, row count, filters and provenance, under
 * a blank line), then any warnings. Values are left-aligned and wrap, so long URLs and descriptions stay readable;
 * row counts are numbers with thousands separators.
 */
export function buildAboutSheet(input: AboutInput): SheetSpec {
  const t = createTranslator(input.language ?? 'en');
  const offset = /([+-]\d{2}:\d{2}|Z)$/.exec(input.refreshedAt)?.[1] ?? '';
  const refreshed = wallClock(input.refreshedAt);
  const rows: AboutRow[] = [
    [t.t('about.export'), input.exportId],
    ...(input.description === undefined ? [] : [[t.t('about.description'), input.description] as const]),
    ...(refreshed === undefined ? [] : [[t.t('about.refreshedAt'), refreshed] as const]),
    [t.t('about.refreshedAtIso'), input.refreshedAt],
    ...dataAsOfRows(input.dataAsOf, t),
    [t.t('about.timezone'), t.t('about.zone', { zone: input.timezone, offset: offset === 'Z' ? '' : offset })],
    [t.t('about.runId'), input.runId],
    [t.t('about.triggeredBy'), describeTrigger(input.trigger, t)],
    [t.t('about.deliveredTo'), localizeDestination(input.destination, t)],
    [t.t('about.toolVersion'), `tableau-excel-export ${input.toolVersion}`],
  ];
  for (const s of input.sheets) {
    const block: (readonly [string, AboutValue])[] = [
      [t.t('about.sheet'), s.sheet],
      [`  ${t.t('about.source')}`, localizeSource(s.source, t)],
      [`  ${t.t('about.rows')}`, s.rows],
    ];
    if (s.filters !== '') block.push([`  ${t.t('about.filters')}`, s.filters]);
    for (const [key, value] of Object.entries(s.provenance)) {
      const label = `  ${provenanceLabel(key, t)}`;
      // The same fact under the same label once is enough (filters are in both places).
      if (!block.some(([existing]) => existing.toLowerCase() === label.toLowerCase()))
        block.push([label, key === 'source' ? localizeSource(value, t) : localizeValue(key, value, t)]);
    }
    rows.push(BLANK_LINE, ...block);
  }
  for (const u of input.updates ?? []) rows.push(BLANK_LINE, ...describeUpdate(u, t));
  if (input.warnings.length > 0) {
    rows.push(BLANK_LINE);
    for (const w of input.warnings) rows.push([t.t('about.warning'), w]);
  }
  return {
    name: t.t('sheet.about'),
    title: t.t('about.title'),
    columns: [
      { header: t.t('about.column.item'), format: 'text', width: 24 },
      { header: t.t('about.column.value'), format: 'text', width: 90, wrap: true, align: 'left' },
    ],
    rows: rows.map(([k, v]) => [k, v]),
    cellFormats: rows.map(([, v]) =>
      typeof v === 'number' ? [undefined, 'integer'] : v instanceof Date ? [undefined, 'datetime'] : undefined,
    ),
    asTable: false,
  };
}

/** "Data as of" as a date-time (and ISO 8601 text), or "live connection"; nothing when no view was checked. */
function dataAsOfRows(dataAsOf: string | undefined, t: Translator): AboutRow[] {
  if (dataAsOf === undefined) return [];
  if (dataAsOf === 'live') return [[t.t('about.dataAsOf'), t.t('freshness.live')]];
  const wall = wallClock(dataAsOf);
  return [
    ...(wall === undefined ? [] : [[t.t('about.dataAsOf'), wall] as const]),
    [t.t('about.dataAsOfIso'), dataAsOf],
  ];
}

/** A provenance value the tool wrote itself, in the workbook's language (`live connection`). */
function localizeValue(key: string, value: string, t: Translator): string {
  return key === 'dataAsOf' && value === 'live connection' ? t.t('freshness.live') : value;
}

/** One refreshed table of the team's workbook: the team's columns kept, the columns added, the rows removed. */
function describeUpdate(u: TableUpdateSummary, t: Translator): AboutRow[] {
  const list = (names: readonly string[]): string => (names.length === 0 ? t.t('about.update.none') : t.list(names));
  const rows: AboutRow[] = [
    [t.t('about.update.table'), u.table],
    [t.t('about.update.kept'), list(u.teammateColumns)],
    [t.t('about.update.calculated'), list(u.calculatedColumns)],
    [t.t('about.update.added'), list(u.addedColumns)],
  ];
  for (const d of u.droppedRows) rows.push([t.t('about.update.dropped'), `${d.key}: ${d.values.join(' | ')}`]);
  return rows;
}

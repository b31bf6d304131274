/**
 * Text rendering of the run history for `tableau-export history [EXPORT_ID]`: a table of runs, and the detail of
 * one run. Pure: time zone and terminal width are arguments.
 */
import type { AttemptSummary, PartReport, RunReport, RunTrigger } from '../contracts/run-report.js';
import { zonedParts } from '../shared/time.js';

export interface HistoryFormatOptions {
  /** IANA zone for start times; the machine's zone by default. */
  readonly timeZone?: string | undefined;
  /** Widest the error column may grow to (characters). Default 60. */
  readonly maxErrorWidth?: number | undefined;
}

const COLUMNS = [
  'RUN ID',
  'EXPORT',
  'TRIGGER',
  'STATUS',
  'START',
  'DURATION',
  'ROWS',
  'BYTES',
  'ERROR / NOTE',
] as const;
const RIGHT_ALIGNED = new Set<string>(['DURATION', 'ROWS', 'BYTES']);

/** Renders runs (newest first, as given) as an aligned text table, or a one-line note when there are none. */
export function formatRunHistoryTable(runs: readonly RunReport[], options: HistoryFormatOptions = {}): string {
  if (runs.length === 0) return 'No runs recorded yet.';
  const maxError = options.maxErrorWidth ?? 60;
  const rows = runs.map((r) => [
    r.runId,
    r.exportId,
    formatTrigger(r.trigger),
    r.status,
    formatDateTime(r.startedAt, options.timeZone),
    r.durationMs === undefined ? '-' : formatDuration(r.durationMs),
    r.status === 'skipped' ? '-' : formatCount(r.rows),
    r.status === 'skipped' ? '-' : formatBytes(r.bytes),
    truncate(oneLine(problemOrNote(r)), maxError),
  ]);
  const widths = COLUMNS.map((c, i) => Math.max(c.length, ...rows.map((row) => (row[i] ?? '').length)));
  const render = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => {
        const width = widths[i] ?? 0;
        const column = COLUMNS[i] ?? '';
        return RIGHT_ALIGNED.has(column) ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  return [render(COLUMNS), render(widths.map((w) => '-'.repeat(w))), ...rows.map(render)].join('\n');
}

/** Renders every recorded fact of one run, one per line (for `history --run ID`, or a single-run lookup). */
export function formatRunDetail(run: RunReport, options: HistoryFormatOptions = {}): string {
  const lines: [string, string][] = [
    ['Run', run.runId],
    ['Export', run.exportId],
    ['Trigger', formatTrigger(run.trigger)],
    ['Status', run.status],
    ['Started', formatDateTime(run.startedAt, options.timeZone)],
    ['Finished', run.finishedAt === undefined ? '-' : formatDateTime(run.finishedAt, options.timeZone)],
    ['Duration', run.durationMs === undefined ? '-' : formatDuration(run.durationMs)],
    ['Rows', formatCount(run.rows)],
    ['Bytes', `${formatBytes(run.bytes)} (${formatCount(run.bytes)} B)`],
  ];
  if (run.attempt !== undefined) lines.push(['Attempt', String(run.attempt)]);
  if (run.worker !== undefined) lines.push(['Worker', run.worker]);
  for (const a of run.attempts ?? []) lines.push(['Attempts', describeAttempt(a, options.timeZone)]);
  if (run.destination !== undefined) {
    lines.push(['Destination', run.destination.location]);
    if (run.destination.webUrl !== undefined) lines.push(['Web URL', run.destination.webUrl]);
    if (run.destination.deliveredAt !== undefined)
      lines.push(['Delivered', formatDateTime(run.destination.deliveredAt, options.timeZone)]);
  }
  if (run.note !== undefined) lines.push(['Note', run.note]);
  if (run.error !== undefined) lines.push(['Error', `${run.error.code}: ${run.error.message}`]);
  if (run.burst !== undefined)
    lines.push([
      'Burst',
      `by ${run.burst.by} into ${run.burst.into}: ${run.burst.values.join(', ')} (${run.burst.discovered ? 'read from the data' : 'listed'})`,
    ]);
  for (const p of run.parts ?? []) lines.push(['Part', formatPart(p)]);
  for (const s of run.sheets) lines.push(['Sheet', `${s.sheet}: ${formatCount(s.rows)} rows from ${s.source}`]);
  const timings = Object.entries(run.timings);
  if (timings.length > 0)
    lines.push(['Timings', timings.map(([stage, ms]) => `${stage} ${formatDuration(ms)}`).join(', ')]);
  for (const w of run.warnings) lines.push(['Warning', w]);
  const width = Math.max(...lines.map(([k]) => k.length));
  return lines.map(([k, v]) => `${`${k}:`.padEnd(width + 1)} ${v}`).join('\n');
}

/**
 * One burst part on one line: `NA: failed, 0 rows [ONEDRIVE_FORBIDDEN] …`, or `EMEA: succeeded, 96 rows → Reports/EMEA.xlsx
 * (kept from run R)`.
 */
export function formatPart(p: PartReport): string {
  const where = p.destination === undefined ? '' : ` → ${p.destination.webUrl ?? p.destination.location}`;
  const kept = p.keptFrom === undefined ? '' : ` (kept from run ${p.keptFrom})`;
  const error = p.error === undefined ? '' : ` [${p.error.code}] ${p.error.message}`;
  return `${p.value}: ${p.status}, ${formatCount(p.rows)} rows${where}${kept}${error}`;
}

/** The last column of the table: the error, else what the status alone does not say (a retry, an unchanged file). */
function problemOrNote(r: RunReport): string {
  if (r.error !== undefined) return `${r.error.code}: ${r.error.message}`;
  const earlier = (r.attempts ?? []).filter((a) => a.attempt !== r.attempt);
  const retried = earlier.map(
    (a) =>
      `attempt ${a.attempt} ${a.error?.code === 'INTERRUPTED' ? 'interrupted' : a.status}${a.worker === undefined ? '' : ` on ${a.worker}`}`,
  );
  return [
    ...(retried.length === 0 ? [] : [`retried (${retried.join(', ')})`]),
    ...(r.note === undefined ? [] : [r.note]),
  ].join('; ');
}

/** `1 failed on host-a:41, 2026-03-08 06:00:01 → 06:00:31 (INTERRUPTED: …)`. */
function describeAttempt(a: AttemptSummary, timeZone: string | undefined): string {
  const where = a.worker === undefined ? '' : ` on ${a.worker}`;
  const when = `${formatDateTime(a.startedAt, timeZone)}${a.finishedAt === undefined ? '' : ` → ${formatDateTime(a.finishedAt, timeZone)}`}`;
  const why = a.error === undefined ? '' : ` (${a.error.code}: ${a.error.message})`;
  return `${a.attempt} ${a.status}${where}, ${when}${why}`;
}

/** `schedule`, `manual (alice)`, `cli`, `catch-up`. */
export function formatTrigger(trigger: RunTrigger): string {
  return trigger.kind === 'manual' ? `manual (${trigger.by})` : trigger.kind;
}

/** `850 ms`, `12.3 s`, `4m 05s`, `1h 02m`. */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  const totalSeconds = Math.round(ms / 1_000);
  const hours = Math.floor(totalSeconds / 3_600);
  const minutes = Math.floor((totalSeconds % 3_600) / 60);
  const seconds = totalSeconds % 60;
  return hours > 0
    ? `${hours}h ${String(minutes).padStart(2, '0')}m`
    : `${minutes}m ${String(seconds).padStart(2, '0')}s`;
}

/** `0 B`, `980 B`, `12.4 KB`, `3.1 MB` (1 KB = 1024 B). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit] ?? ''}`;
}

function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** `2026-03-08 06:00:01` in the zone (ISO-like, sortable, unambiguous day order). */
function formatDateTime(iso: string, timeZone: string | undefined): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const p = zonedParts(date, timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${p.year}-${pad(p.month)}-${pad(p.day)} ${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}`;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}

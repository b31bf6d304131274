/**
 * The freshness guard: before a view's data is fetched, how old is it (the extract's last refresh), and is that
 * older than `freshness.maxAge`? {@link judgeFreshness} is the pure rule; {@link guardFreshness} applies it to one view
 * of a run: `warn` delivers with a warning and an alert, `skip` stops the run keeping the previous file
 * ({@link StaleDataSkip}), `fail` fails it (`DATA_STALE`). A live connection is always fresh; an age the source
 * cannot tell is a warning, never a stale verdict (nothing proves the data old).
 */
import type { DataFreshness, SourceSession, ViewRequest } from '../contracts/ports.js';
import type { ExportConfig, FreshnessConfig, ViewConfig } from '../config/schema.js';
import { SourceError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { isoWithOffset } from '../shared/time.js';

export type FreshnessVerdict =
  | { readonly state: 'live' }
  | { readonly state: 'fresh'; readonly refreshedAt: string; readonly ageMs: number }
  | {
      readonly state: 'stale';
      readonly refreshedAt: string;
      readonly ageMs: number;
      readonly maxAgeMs: number;
      readonly then: FreshnessConfig['then'];
      readonly datasource: string;
    }
  | { readonly state: 'unknown'; readonly reason: string };

/** The rule for a view: its own `freshness`, else the export's; undefined when neither sets one. */
export function freshnessRuleFor(view: ViewConfig, exp: ExportConfig): FreshnessConfig | undefined {
  return view.freshness ?? exp.freshness;
}

/** Pure: the verdict on data of this freshness at `now`. Data refreshed "in the future" (clock skew) is fresh. */
export function judgeFreshness(freshness: DataFreshness, rule: FreshnessConfig, now: Date): FreshnessVerdict {
  if (freshness.kind === 'live') return { state: 'live' };
  if (freshness.kind === 'unknown') return { state: 'unknown', reason: freshness.reason };
  const at = Date.parse(freshness.refreshedAt);
  if (Number.isNaN(at)) return { state: 'unknown', reason: `unreadable refresh time '${freshness.refreshedAt}'` };
  const ageMs = Math.max(0, now.getTime() - at);
  if (ageMs <= rule.maxAge) return { state: 'fresh', refreshedAt: freshness.refreshedAt, ageMs };
  return {
    state: 'stale',
    refreshedAt: freshness.refreshedAt,
    ageMs,
    maxAgeMs: rule.maxAge,
    then: rule.then,
    datasource: freshness.datasource,
  };
}

/** `2d 3h`, `27h 5m` reads worse than `1d 3h 5m`; minutes are dropped past a day. */
export function formatAge(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const mins = minutes % 60;
  if (days > 0) return hours === 0 ? `${days}d` : `${days}d ${hours}h`;
  if (hours > 0) return mins === 0 ? `${hours}h` : `${hours}h ${mins}m`;
  return `${mins}m`;
}

/** A stale view under `then: skip`: the run stops before fetching anything and keeps the previous file. */
export class StaleDataSkip extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'StaleDataSkip';
  }
}

/** What the guard found for one view: the provenance facts to show, and the warnings and alerts to raise. */
export interface FreshnessFinding {
  /** `dataAsOf` (ISO 8601 in the export's zone, or `live connection`) for the sheet's provenance; empty when unknown. */
  readonly provenance: Readonly<Record<string, string>>;
  readonly warnings: readonly string[];
  readonly alerts: readonly string[];
}

export interface GuardInput {
  readonly session: SourceSession;
  readonly request: ViewRequest;
  readonly rule: FreshnessConfig;
  /** `view 'Opportunities'` or `sheet 'Rep Performance' of dashboard 'Pipeline Overview'`, for messages. */
  readonly label: string;
  readonly now: Date;
  readonly timezone: string;
  readonly logger: Logger;
  readonly signal: AbortSignal;
}

/** The message for stale data: which view, how old, the limit. */
function describeStale(label: string, v: Extract<FreshnessVerdict, { state: 'stale' }>, timezone: string): string {
  return `the data of ${label} is ${formatAge(v.ageMs)} old (extract '${v.datasource}' last refreshed ${isoWithOffset(new Date(v.refreshedAt), timezone)}), older than freshness.maxAge ${formatAge(v.maxAgeMs)}`;
}

/**
 * Reads the view's data age and applies the rule.
 * @throws StaleDataSkip under `then: skip`; SourceError `DATA_STALE` under `then: fail`; the source's lookup errors.
 */
export async function guardFreshness(input: GuardInput): Promise<FreshnessFinding> {
  const { session, rule, label, timezone } = input;
  if (session.readFreshness === undefined) {
    return {
      provenance: {},
      warnings: [`freshness: cannot tell how old the data of ${label} is (not a Tableau view)`],
      alerts: [],
    };
  }
  const freshness = await session.readFreshness(input.request, { logger: input.logger, signal: input.signal });
  const verdict = judgeFreshness(freshness, rule, input.now);
  switch (verdict.state) {
    case 'live':
      return { provenance: { dataAsOf: 'live connection' }, warnings: [], alerts: [] };
    case 'unknown':
      return {
        provenance: {},
        warnings: [
          `freshness: could not read how old the data of ${label} is (${verdict.reason}); delivered unchecked`,
        ],
        alerts: [],
      };
    case 'fresh':
      return {
        provenance: { dataAsOf: isoWithOffset(new Date(verdict.refreshedAt), timezone) },
        warnings: [],
        alerts: [],
      };
    case 'stale': {
      const message = describeStale(label, verdict, timezone);
      if (verdict.then === 'fail') {
        throw new SourceError('DATA_STALE', message, {
          hint: 'check the extract refresh schedule in Tableau; the previous workbook was kept. Raise freshness.maxAge, or set then: warn or skip, to accept older data',
          details: { ageMs: verdict.ageMs, maxAgeMs: verdict.maxAgeMs, refreshedAt: verdict.refreshedAt },
        });
      }
      if (verdict.then === 'skip') throw new StaleDataSkip(message);
      const warning = `${message}; delivered anyway (freshness.then: warn)`;
      return {
        provenance: { dataAsOf: isoWithOffset(new Date(verdict.refreshedAt), timezone) },
        warnings: [warning],
        alerts: [warning],
      };
    }
  }
}

/**
 * The oldest `dataAsOf` among the sheets' provenance, for the About sheet and the Summary: a date when some sheet
 * reads an extract, `live` when every checked sheet is live, undefined when none was checked.
 */
export function oldestDataAsOf(provenances: readonly Readonly<Record<string, string>>[]): Date | 'live' | undefined {
  let oldest: Date | undefined;
  let live = false;
  for (const p of provenances) {
    const value = p['dataAsOf'];
    if (value === undefined) continue;
    if (value === 'live connection') {
      live = true;
      continue;
    }
    const at = new Date(value);
    if (!Number.isNaN(at.getTime()) && (oldest === undefined || at < oldest)) oldest = at;
  }
  return oldest ?? (live ? 'live' : undefined);
}

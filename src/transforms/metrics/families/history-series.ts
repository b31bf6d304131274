/** What only snapshot history can tell: the 12-week trend, the stage moves, and the snapshot dates. */
import type { TrendWeek } from '../history.js';
import type { MetricsBasis } from '../metrics-basis.js';
import { transitionCounts, type TransitionCount } from '../series.js';

export interface HistorySeries {
  /** Null without snapshot history. */
  readonly trend: readonly TrendWeek[] | null;
  readonly transitions: readonly TransitionCount[] | null;
  readonly snapshotDates: readonly string[];
}

/** The trend and stage moves of the basis' history (null, and no snapshot dates, when there is none). */
export function measureHistorySeries(b: MetricsBasis): HistorySeries {
  const history = b.ctx.history;
  return {
    trend: history?.trend ?? null,
    transitions: history === undefined ? null : transitionCounts(history, b.ctx),
    snapshotDates: history?.snapshotDates ?? [],
  };
}

/**
 * Prometheus metrics of export runs, on a registry of their own (never prom-client's global one, so two servers in
 * one process, or tests, do not share counters). The object is a {@link RunObserver}: the scheduler feeds it.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RunReport } from '../contracts/run-report.js';
import type { RunObserver } from '../contracts/after-run.js';
import type { LiveRuns, LiveRunView } from './live-runs.js';

export interface RunMetrics extends Required<RunObserver> {
  readonly registry: Registry;
}

/** Seconds; exports take from seconds (small views) to tens of minutes (large ones behind slow extracts). */
const DURATION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1_200, 1_800, 3_600];

/** Creates the run metrics on `registry` (a new one by default). */
export function createRunMetrics(registry: Registry = new Registry()): RunMetrics {
  const runs = new Counter({
    name: 'tableau_export_runs_total',
    help: 'Export runs by export and final status (succeeded, failed, skipped, unchanged).',
    labelNames: ['export', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'tableau_export_run_duration_seconds',
    help: 'Duration of finished export runs, in seconds.',
    labelNames: ['export', 'status'] as const,
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const lastRows = new Gauge({
    name: 'tableau_export_last_run_rows',
    help: 'Data rows written by the last finished run of the export.',
    labelNames: ['export'] as const,
    registers: [registry],
  });
  const lastBytes = new Gauge({
    name: 'tableau_export_last_run_bytes',
    help: 'Size in bytes of the workbook delivered by the last finished run of the export.',
    labelNames: ['export'] as const,
    registers: [registry],
  });
  const lastSuccess = new Gauge({
    name: 'tableau_export_last_success_timestamp_seconds',
    help: 'Unix time at which the last successful (or unchanged) run of the export finished.',
    labelNames: ['export'] as const,
    registers: [registry],
  });
  const running = new Gauge({
    name: 'tableau_export_running',
    help: 'Runs of the export in progress (0 or 1).',
    labelNames: ['export'] as const,
    registers: [registry],
  });

  const recordSuccess = (report: RunReport): void => {
    const at = Date.parse(report.finishedAt ?? report.startedAt);
    if (!Number.isNaN(at)) lastSuccess.set({ export: report.exportId }, at / 1_000);
  };

  return {
    registry,
    runStarted(exportId) {
      running.inc({ export: exportId });
    },
    runFinished(report) {
      runs.inc({ export: report.exportId, status: report.status });
      // A skipped tick never started (and never raised the running gauge); a run skipped for stale data did, and
      // says why in its note.
      if (report.status === 'skipped' && report.note === undefined) return;
      running.dec({ export: report.exportId });
      if (report.durationMs !== undefined)
        duration.observe({ export: report.exportId, status: report.status }, report.durationMs / 1_000);
      if (report.status !== 'failed' && report.status !== 'skipped') {
        lastRows.set({ export: report.exportId }, report.rows);
        lastBytes.set({ export: report.exportId }, report.bytes);
      }
      if (report.status === 'succeeded' || report.status === 'unchanged') recordSuccess(report);
    },
    lastSuccessLoaded(report) {
      recordSuccess(report);
      lastRows.set({ export: report.exportId }, report.rows);
      lastBytes.set({ export: report.exportId }, report.bytes);
    },
  };
}

/**
 * Gauges read from the live view at every scrape: runs in progress and runs stalled (quiet for longer than their
 * stage's timeout), by export, so an alert can fire on a stuck run before anyone opens the dashboard.
 */
export function registerLiveRunMetrics(registry: Registry, live: Pick<LiveRuns, 'list'>): void {
  const collectInto = (gauge: Gauge<'export' | 'stage'>, pick: (r: LiveRunView) => boolean): void => {
    gauge.reset();
    for (const run of live.list()) if (pick(run)) gauge.inc({ export: run.exportId, stage: run.stage });
  };
  new Gauge({
    name: 'tableau_export_live_runs',
    help: 'Runs reporting progress now, by export and stage (in queue mode: across the fleet).',
    labelNames: ['export', 'stage'] as const,
    registers: [registry],
    collect() {
      collectInto(this, () => true);
    },
  });
  new Gauge({
    name: 'tableau_export_runs_stalled',
    help: "Runs quiet for longer than their stage's timeout (a stuck or dead process), by export and stage.",
    labelNames: ['export', 'stage'] as const,
    registers: [registry],
    collect() {
      collectInto(this, (r) => r.stalled);
    },
  });
}

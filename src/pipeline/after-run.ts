/**
 * The after-run policy: what happens once a run has a report, whoever ran it (the in-process scheduler, the queue
 * worker, `tableau-export run`). Metrics hear about every start and end; people hear about failures, recoveries, row
 * drops and alerts; a run that was interrupted (its process stopped, or a shutdown aborted it) is counted but is
 * not news, because it is retried or superseded. Nothing here ever throws: a run's outcome never depends on it.
 */
import type { Notifier, NotifySettings, RunObserver } from '../contracts/after-run.js';
import { isInterrupted, type RunReport } from '../contracts/run-report.js';
import type { Logger } from '../shared/logger.js';

export interface AfterRunDeps {
  readonly logger: Logger;
  readonly observer?: RunObserver | undefined;
  readonly notifier?: Notifier | undefined;
  /** Where an export's notifications go, read when the run ends (a config reload may have changed them). */
  readonly notifySettings: (exportId: string) => NotifySettings | undefined;
}

export interface AfterRun {
  /** A run started. */
  started(exportId: string, runId: string): void;
  /**
   * A run ended with this report: metrics first, then notifications unless the run was interrupted. `abortedByStop`
   * marks a run this process aborted at shutdown (the operator's doing, not news even if the report says failed).
   */
  finished(report: RunReport, how?: { readonly abortedByStop?: boolean }): Promise<void>;
  /** A run was not started (skipped tick) but has a report: metrics only. */
  recorded(report: RunReport): void;
  /** The last success found in the history at start (so "last success time" survives a restart). */
  lastSuccessLoaded(report: RunReport): void;
}

export function createAfterRun(deps: AfterRunDeps): AfterRun {
  const log = deps.logger.child({ component: 'after-run' });
  const observe = (fn: () => void): void => {
    try {
      fn();
    } catch (err) {
      log.error({ err }, 'run observer failed (metrics); the run itself is not affected');
    }
  };
  return {
    started(exportId, runId) {
      observe(() => deps.observer?.runStarted?.(exportId, runId));
    },
    recorded(report) {
      observe(() => deps.observer?.runFinished?.(report));
    },
    lastSuccessLoaded(report) {
      observe(() => deps.observer?.lastSuccessLoaded?.(report));
    },
    async finished(report, how = {}) {
      observe(() => deps.observer?.runFinished?.(report));
      if (how.abortedByStop === true || isInterrupted(report) || deps.notifier === undefined) return;
      const settings = deps.notifySettings(report.exportId);
      if (settings === undefined) return;
      try {
        await deps.notifier.runFinished(report, settings);
      } catch (err) {
        log.error(
          { err, runId: report.runId, exportId: report.exportId },
          'notification failed; the run itself is not affected',
        );
      }
    },
  };
}

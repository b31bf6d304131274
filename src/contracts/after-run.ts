/**
 * What happens around a run once it has a report: metrics hear about starts and ends, people are notified. The one
 * policy that decides which run is news lives in `pipeline/after-run.ts`; these are the ports it calls.
 */
import type { RunReport } from './run-report.js';

/** Where and when to tell people about a run (a Teams or Slack incoming webhook, or any JSON receiver). */
export interface NotifySettings {
  /** Secret: the URL itself grants posting. Never logged. */
  readonly webhookUrl: string;
  /** The message shape; inferred from the URL's host when not given (see scheduler/webhook-format.ts). */
  readonly format?: 'teams' | 'slack' | 'json' | undefined;
  /** Allow a loopback, link-local or private target (an internal chat server). Default false. */
  readonly allowPrivate?: boolean | undefined;
  /** Extra CA (PEM file) for a webhook with an internal CA. */
  readonly caFile?: string | undefined;
  /** Notify when the row count falls by more than this share of the last success (0.5 = lost more than half). */
  readonly rowDropShare: number;
}

/** Told about run starts and ends (Prometheus metrics implement it). Must not throw. */
export interface RunObserver {
  runStarted?(exportId: string, runId: string): void;
  runFinished?(report: RunReport): void;
  /** The last success found in the history at start (so "last success time" survives a restart). */
  lastSuccessLoaded?(report: RunReport): void;
}

/** Sends notifications about a finished run (failure, recovery, row drop, alerts). Must not throw. */
export interface Notifier {
  runFinished(report: RunReport, settings: NotifySettings): Promise<void>;
}

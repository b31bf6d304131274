/**
 * What the scheduling service needs from the rest of the tool. These interfaces are owned here, by the consumer:
 * the composition root maps the YAML config to {@link ScheduledExport} and provides the {@link ExportRunner}.
 */
import type { RunReport, RunTrigger } from '../pipeline/report.js';
import type { Logger } from '../shared/logger.js';

/** Row-drop share used when the config does not set one: notify when a run lost more than half the rows. */
export const DEFAULT_ROW_DROP_SHARE = 0.5;

/** Where and when to tell people about a run (webhook accepting `{ "text": "..." }`: Teams and Slack). */
export interface NotifySettings {
  /** Secret: the URL itself grants posting. Never logged. */
  readonly webhookUrl: string;
  /** Notify when the row count falls by more than this share of the last success (0.5 = lost more than half). */
  readonly rowDropShare: number;
}

/** One export as the service schedules it. */
export interface ScheduledExport {
  readonly id: string;
  /** 5-field cron pattern; undefined = manual runs only. */
  readonly schedule?: string | undefined;
  /** IANA time zone the pattern is read in (the export's own or the config default). */
  readonly timezone: string;
  /** Run once on start when a scheduled time passed while the service was down. */
  readonly catchUp: boolean;
  /** Human label of the destination (e.g. `OneDrive ops@contoso.com: Reports/Sales Pipeline.xlsx`). */
  readonly destinationLabel: string;
  readonly notify?: NotifySettings | undefined;
}

export interface RunnerOptions {
  /** Aborted at shutdown once the deadline passed: the runner cancels uploads, removes temp files, records ABORTED. */
  readonly signal: AbortSignal;
  /** The id the runner must use for its record (the admin API returns it before the run ends). */
  readonly runId: string;
  /** Called by the runner right after it recorded the run as `running` (insertRun). */
  readonly onStart?: (runId: string) => void;
  /** Logger with `runId` and `exportId` bound: the runner logs through it so every line of the run carries them. */
  readonly logger?: Logger;
}

/**
 * Runs one export end to end. It records the run itself (insertRun at start, then onStart, finishRun at the end),
 * honours the signal, and never throws: a failure is a report with status `failed`.
 */
export type ExportRunner = (exportId: string, trigger: RunTrigger, options: RunnerOptions) => Promise<RunReport>;

/** Told about run starts and ends (Prometheus metrics implement it). Must not throw. */
export interface RunObserver {
  runStarted?(exportId: string, runId: string): void;
  runFinished?(report: RunReport): void;
  /** The last success found in the history at start (so "last success time" survives a restart). */
  lastSuccessLoaded?(report: RunReport): void;
}

/** Sends notifications about a finished run (failure, recovery, row drop). Must not throw. */
export interface Notifier {
  runFinished(report: RunReport, settings: NotifySettings): Promise<void>;
}

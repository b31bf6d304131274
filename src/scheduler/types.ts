/**
 * What the scheduling service needs from the config: the composition root maps the YAML config to
 * {@link ScheduledExport}s (the runner and the after-run ports are in `contracts/`).
 */
import type { NotifySettings } from '../contracts/after-run.js';

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
  /** Absolute path of the workbook when the destination is a local folder. */
  readonly localFile?: string | undefined;
  /** destination.mode is update (the dashboard shows the team-workbook download stage). */
  readonly updateMode?: boolean | undefined;
  readonly notify?: NotifySettings | undefined;
}

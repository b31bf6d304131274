/**
 * How long each stage of a run may stay quiet before the dashboard shows the run as stalled, from the timeouts the
 * config already gives the clients: a stage quiet for longer than its client would wait has a stuck (or dead)
 * process behind it. Only the composition root knows the config, so the runner adds these to every progress report.
 */
import type { Config, ExportConfig } from '../config/schema.js';
import type { RunProgress, RunStage } from '../contracts/run-progress.js';

/** Typing and writing report every 10 000 rows: two minutes without a report is a process that stopped working. */
const CPU_STAGE_QUIET_MS = 2 * 60_000;

/** The quiet limit of every stage of `exp`, in ms. */
export function stageTimeouts(config: Config, exp: ExportConfig): Readonly<Record<RunStage, number>> {
  const tableau = config.tableau;
  const tableauBudget = tableau?.retry.giveUpAfter ?? 600_000;
  const d = exp.destination;
  const upload =
    d.type === 'onedrive'
      ? // A workbook open in Excel is retried for onLocked.retryFor, each attempt within the Graph retry budget.
        (config.onedrive?.retry.giveUpAfter ?? 600_000) + d.onLocked.retryFor
      : CPU_STAGE_QUIET_MS;
  return {
    // Sign-in and view lookup: connect, then retries up to the retry budget.
    resolve: (tableau?.connectTimeout ?? 30_000) + tableauBudget,
    // The download itself reports nothing until it is spooled; the client aborts a silent one after idleTimeout
    // and retries within its budget.
    fetch: (tableau?.idleTimeout ?? 300_000) + tableauBudget,
    type: CPU_STAGE_QUIET_MS,
    // Update mode: the team's workbook comes down in one Graph request (a redirect, then the content), with retries.
    download: (config.onedrive?.retry.giveUpAfter ?? 600_000) + CPU_STAGE_QUIET_MS,
    write: CPU_STAGE_QUIET_MS,
    upload,
  };
}

/** A progress listener that adds each stage's quiet limit to the reports it passes on. */
export function withStageTimeouts(
  timeouts: Readonly<Record<RunStage, number>>,
  listener: ((p: RunProgress) => void) | undefined,
): ((p: RunProgress) => void) | undefined {
  if (listener === undefined) return undefined;
  return (p) => listener({ ...p, stageTimeoutMs: timeouts[p.stage === 'parse' ? 'type' : p.stage] });
}

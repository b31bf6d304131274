/**
 * Run notifications to a chat webhook, in the shape of its target (`notify.format`, webhook-format.ts): a Teams
 * Adaptive Card, Slack blocks, or plain JSON. Sent over HTTPS only, and only to public addresses unless
 * `allowPrivate` (webhook-post.ts).
 *
 * Sent on: a failure; the first success after a failure ("recovered"); a success whose row count fell by more than
 * `rowDropShare` against the previous success. A webhook that fails is retried briefly, then logged (without its
 * URL, which is a secret) and forgotten: notifications never fail a run.
 */
import { isInterrupted, type RunReport } from '../contracts/run-report.js';
import { realSleep, systemClock, type Clock, type Sleep } from '../shared/clock.js';
import { AppError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { Redactor } from '../shared/redact.js';
import { withRetry } from '../shared/retry.js';
import type { RunStore } from '../contracts/run-store.js';
import type { Notifier, NotifySettings } from '../contracts/after-run.js';
import {
  inferWebhookFormat,
  renderPlainText,
  renderWebhookBody,
  type NotificationKind,
  type NotificationMessage,
} from './webhook-format.js';
import { createHttpsWebhookPost, type WebhookPost } from './webhook-post.js';

export type { NotificationKind } from './webhook-format.js';
export type { WebhookPost } from './webhook-post.js';

export interface WebhookNotifierDeps {
  readonly logger: Logger;
  readonly redactor: Redactor;
  /** Where the previous runs are read (to detect recovery and row drops). */
  readonly history: Pick<RunStore, 'listRuns'>;
  /** Defaults to an HTTPS POST with a 10 s timeout and the address check ({@link createHttpsWebhookPost}). */
  readonly post?: WebhookPost | undefined;
  /** Public base URL of the admin dashboard, for "open the run" links (e.g. `https://exports.contoso.com`). */
  readonly dashboardUrl?: string | undefined;
  readonly clock?: Clock | undefined;
  readonly sleep?: Sleep | undefined;
}

export interface NotificationDecisionInput {
  readonly report: RunReport;
  /** The previous finished run of the export (not skipped, not aborted by a shutdown), if any. */
  readonly previous: RunReport | undefined;
  /** The previous success (succeeded or unchanged) before this run, if any. */
  readonly lastSuccess: RunReport | undefined;
  readonly rowDropShare: number;
}

/** Pure: which notifications a finished run deserves. */
export function decideNotifications(input: NotificationDecisionInput): NotificationKind[] {
  const { report, previous, lastSuccess } = input;
  if (report.status === 'failed') return ['failure'];
  // A run skipped for a reason worth telling (stale data) says so; a tick skipped behind a running run does not.
  if (report.status === 'skipped') return (report.alerts?.length ?? 0) > 0 ? ['alert'] : [];
  if (report.status !== 'succeeded' && report.status !== 'unchanged') return [];
  const kinds: NotificationKind[] = [];
  if (previous?.status === 'failed') kinds.push('recovery');
  if (report.status === 'succeeded' && lastSuccess !== undefined && lastSuccess.rows > 0) {
    const dropShare = (lastSuccess.rows - report.rows) / lastSuccess.rows;
    if (dropShare > input.rowDropShare) kinds.push('row-drop');
  }
  if ((report.alerts?.length ?? 0) > 0) kinds.push('alert');
  return kinds;
}

/** Pure: the message text for the given notifications (one message, one paragraph each), as plain text. */
export function composeNotificationText(
  kinds: readonly NotificationKind[],
  input: NotificationDecisionInput,
  links: { readonly runUrl?: string | undefined },
): string {
  return renderPlainText(composeNotification(kinds, input, links));
}

/** Pure: the notification for the given kinds, before it takes a format (plain texts, unescaped). */
export function composeNotification(
  kinds: readonly NotificationKind[],
  input: NotificationDecisionInput,
  links: { readonly runUrl?: string | undefined },
): NotificationMessage {
  const { report, lastSuccess } = input;
  const paragraphs: string[] = [];
  for (const kind of kinds) {
    if (kind === 'failure') {
      const error = report.error === undefined ? 'no error recorded' : `${report.error.code}: ${report.error.message}`;
      const still =
        lastSuccess === undefined
          ? ''
          : `\nTeammates still have the workbook of ${formatWallTime(lastSuccess.destination?.deliveredAt ?? lastSuccess.finishedAt ?? lastSuccess.startedAt)} (${formatRows(lastSuccess.rows)}).`;
      paragraphs.push(
        `❌ Export "${report.exportId}" failed (run ${report.runId}, ${describeRunTrigger(report)}).\nError: ${error}${still}`,
      );
    } else if (kind === 'alert') {
      paragraphs.push(
        `⚠️ Export "${report.exportId}" (run ${report.runId}) needs a look:\n${(report.alerts ?? []).map((a) => `• ${a}`).join('\n')}`,
      );
    } else if (kind === 'recovery') {
      paragraphs.push(
        `✅ Export "${report.exportId}" recovered: run ${report.runId} ${report.status} after a failed run (${formatRows(report.rows)}).`,
      );
    } else if (lastSuccess !== undefined) {
      const share = Math.round(((lastSuccess.rows - report.rows) / lastSuccess.rows) * 100);
      paragraphs.push(
        `⚠️ Export "${report.exportId}": row count dropped by ${share}% (${formatRows(lastSuccess.rows)} → ${formatRows(report.rows)}) against the last success (run ${lastSuccess.runId}, ${lastSuccess.startedAt}). Check the Tableau view and its filters.`,
      );
    }
  }
  const retried = describeAttempts(report);
  if (retried !== undefined) paragraphs.push(retried);
  const fileUrl = report.destination?.webUrl ?? lastSuccess?.destination?.webUrl;
  return {
    kinds,
    title: titleOf(kinds[0], report.exportId),
    paragraphs,
    links: [
      ...(fileUrl === undefined ? [] : [{ label: 'File' as const, url: fileUrl }]),
      ...(links.runUrl === undefined ? [] : [{ label: 'Run' as const, url: links.runUrl }]),
    ],
    report,
  };
}

function titleOf(kind: NotificationKind | undefined, exportId: string): string {
  if (kind === 'failure') return `Export "${exportId}" failed`;
  if (kind === 'recovery') return `Export "${exportId}" recovered`;
  if (kind === 'row-drop') return `Export "${exportId}": row count dropped`;
  return `Export "${exportId}" needs a look`;
}

/** Creates the webhook notifier used by the scheduler (and by `run` from the CLI, if wired). */
export function createWebhookNotifier(deps: WebhookNotifierDeps): Notifier {
  const post = deps.post ?? createHttpsWebhookPost();
  const clock = deps.clock ?? systemClock;
  const sleep = deps.sleep ?? realSleep;
  const log = deps.logger.child({ component: 'notifier' });

  return {
    async runFinished(report: RunReport, settings: NotifySettings): Promise<void> {
      const runLog = log.child({ runId: report.runId, exportId: report.exportId });
      deps.redactor.addSecret(settings.webhookUrl);
      try {
        const input = await loadDecisionInput(deps.history, report, settings.rowDropShare);
        const kinds = decideNotifications(input);
        if (kinds.length === 0) return;
        const runUrl =
          deps.dashboardUrl === undefined
            ? undefined
            : `${deps.dashboardUrl.replace(/\/+$/, '')}/#run=${encodeURIComponent(report.runId)}`;
        // Redacted while still plain text: escaping for a format could hide a secret from the redactor.
        const message = deps.redactor.redactValue(composeNotification(kinds, input, { runUrl }));
        const format = settings.format ?? inferWebhookFormat(settings.webhookUrl);
        const body = renderWebhookBody(message, format);
        const target = {
          url: settings.webhookUrl,
          allowPrivate: settings.allowPrivate ?? false,
          caFile: settings.caFile,
        };
        await withRetry(
          () => post(target, body),
          // Network errors and 408/429/5xx are worth another try; any other answer will not change.
          (error) => (error instanceof AppError && !error.retryable ? { retry: false } : { retry: true }),
          { maxAttempts: 3, baseDelayMs: 1_000, maxDelayMs: 5_000, maxTotalMs: 20_000 },
          { clock, sleep },
        );
        runLog.info({ kinds, format }, `notification sent for export '${report.exportId}': ${kinds.join(', ')}`);
      } catch (err) {
        // The message is ours (status, network code or refused address), never the URL; the redactor knows it anyway.
        const reason = deps.redactor.redact(err instanceof Error ? err.message : String(err));
        const code = err instanceof AppError ? err.code : undefined;
        runLog.warn(
          { reason, code },
          `webhook notification for export '${report.exportId}' failed: ${reason}; the run is not affected`,
        );
      }
    },
  };
}

async function loadDecisionInput(
  history: Pick<RunStore, 'listRuns'>,
  report: RunReport,
  rowDropShare: number,
): Promise<NotificationDecisionInput> {
  const startedMs = Date.parse(report.startedAt);
  const isBefore = (r: RunReport): boolean => r.runId !== report.runId && Date.parse(r.startedAt) <= startedMs;
  const recent = await history.listRuns({ exportId: report.exportId, limit: 50 });
  const previous = recent.find(
    (r) => isBefore(r) && r.status !== 'running' && r.status !== 'skipped' && !isInterrupted(r),
  );
  // Successes are looked up by status, so a long streak of failures does not hide the last good row count.
  const [succeeded, unchanged] = await Promise.all([
    history.listRuns({ exportId: report.exportId, status: 'succeeded', limit: 2 }),
    history.listRuns({ exportId: report.exportId, status: 'unchanged', limit: 2 }),
  ]);
  const lastSuccess = [...succeeded, ...unchanged]
    .filter(isBefore)
    .sort((a, b) => Date.parse(b.startedAt) - Date.parse(a.startedAt))[0];
  return { report, previous, lastSuccess, rowDropShare };
}

function describeRunTrigger(report: RunReport): string {
  const t = report.trigger;
  if (t.kind === 'manual') return `started by ${t.by}`;
  if (t.kind === 'cli') return 'started from the command line';
  if (t.kind === 'catch-up') return 'catch-up run';
  return t.scheduledFor === undefined ? 'scheduled' : `scheduled for ${t.scheduledFor}`;
}

/** `Attempts: 1 failed on host-a:41 (INTERRUPTED: …); 2 succeeded on host-b:52.` for a run retried in queue mode. */
function describeAttempts(report: RunReport): string | undefined {
  const attempts = report.attempts ?? [];
  if (attempts.length < 2) return undefined;
  const parts = attempts.map(
    (a) =>
      `${a.attempt} ${a.status}${a.worker === undefined ? '' : ` on ${a.worker}`}${a.error === undefined ? '' : ` (${a.error.code}: ${a.error.message})`}`,
  );
  return `Attempts: ${parts.join('; ')}.`;
}

/** `2026-06-01 06:00 (UTC-04:00)` from an ISO time with offset: the wall time of the export's zone, as recorded. */
function formatWallTime(iso: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$/.exec(iso);
  if (m === null) return iso;
  const offset = m[3] === undefined || m[3] === 'Z' ? 'UTC' : `UTC${m[3]}`;
  return `${m[1] ?? ''} ${m[2] ?? ''} (${offset})`;
}

function formatRows(rows: number): string {
  return `${rows.toLocaleString('en-US')} rows`;
}

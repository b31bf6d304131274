/**
 * The locked-workbook policy: while OneDrive answers 423 (the workbook is open for editing in Excel, or checked
 * out) the upload is retried for `onLocked.retryForMs`; then the delivery fails, or writes a dated copy side by side.
 */
import { AbortedError, DestinationError } from '../../shared/errors.js';
import type { Clock, Sleep } from '../../shared/clock.js';
import { sideBySideName, validateDrivePath } from '../../shared/drive-path.js';
import { backoffDelay, type RetryPolicy } from '../../shared/retry.js';
import type { DeliveryContext } from '../../contracts/ports.js';
import type { DriveItem } from './drive-item.js';
import type { DrivePlan } from './drive-target.js';
import { GraphRequestError } from './graph-errors.js';

/** What to do while the workbook is locked. */
export interface LockPolicy {
  readonly retryForMs: number;
  readonly then: 'fail' | 'side-by-side';
}

export interface LockDeps {
  readonly clock: Clock;
  readonly sleep: Sleep;
  readonly random?: (() => number) | undefined;
  /** Backoff between attempts when Graph gives no Retry-After. */
  readonly retry: RetryPolicy;
}

/** The committed upload, under the configured name or its side-by-side name. */
export interface LockedUploadResult {
  readonly item: DriveItem;
  readonly deliveredName: string;
  /** Set when the workbook went side by side: the sentence saying so. */
  readonly warnings: readonly string[];
}

/**
 * Uploads through `upload(name)` under `plan.fileName`, waiting out a lock as `policy` says. Each wait is the
 * remaining time, Graph's Retry-After or the backoff, whichever is shortest, and is logged.
 * @throws DestinationError `ONEDRIVE_LOCKED` (retryable) when the workbook stayed locked and `then` is `fail`;
 *   `ONEDRIVE_INVALID_PATH` when the side-by-side name is not valid; AbortedError when `ctx.signal` aborts
 *   between attempts; any other upload error as it is.
 */
export async function uploadWaitingOutLock(
  upload: (name: string) => Promise<DriveItem>,
  plan: DrivePlan,
  policy: LockPolicy,
  ctx: DeliveryContext,
  deps: LockDeps,
): Promise<LockedUploadResult> {
  const { driveLabel, path, fileName, folders } = plan;
  const started = deps.clock.now().getTime();
  for (let attempt = 1; ; attempt++) {
    if (ctx.signal.aborted) throw new AbortedError(`delivery to ${driveLabel}/${path} aborted`);
    try {
      return { item: await upload(fileName), deliveredName: fileName, warnings: [] };
    } catch (error) {
      if (!(error instanceof GraphRequestError && error.status === 423)) throw error;
      const elapsed = deps.clock.now().getTime() - started;
      const remaining = policy.retryForMs - elapsed;
      if (remaining > 0) {
        const delayMs = Math.min(remaining, error.retryAfterMs ?? backoffDelay(attempt, deps.retry, deps.random));
        ctx.logger.warn(
          { target: `${driveLabel}/${path}`, attempt, delayMs, requestId: error.requestId },
          `'${path}' is locked (open in Excel?); retrying for up to ${formatDuration(remaining)}`,
        );
        await deps.sleep(delayMs, ctx.signal);
        continue;
      }
      if (policy.then === 'fail') {
        throw new DestinationError(
          'ONEDRIVE_LOCKED',
          `'${path}' on ${driveLabel} is locked (open for editing in Excel, or checked out) and stayed locked for ${formatDuration(policy.retryForMs)}; the previous version is unchanged`,
          {
            cause: error,
            retryable: true,
            hint: 'ask whoever has the workbook open to close it in Excel, then run the export again; or set onLocked.then: side-by-side to write a dated copy next to it',
            details: error.details,
          },
        );
      }
      const deliveredName = sideBySideName(fileName, ctx.runStartedAt, ctx.timezone);
      const sbsCheck = validateDrivePath([...folders, deliveredName].join('/'));
      if (sbsCheck.errors.length > 0) {
        throw new DestinationError(
          'ONEDRIVE_INVALID_PATH',
          `side-by-side name '${deliveredName}' is not valid: ${sbsCheck.errors.join('; ')}`,
        );
      }
      const warning = `'${path}' was locked (open in Excel) for ${formatDuration(policy.retryForMs)}; wrote '${deliveredName}' next to it instead`;
      ctx.logger.warn(
        { target: `${driveLabel}/${path}`, sideBySide: deliveredName },
        'workbook locked; delivering side by side',
      );
      return { item: await upload(deliveredName), deliveredName, warnings: [warning] };
    }
  }
}

function formatDuration(ms: number): string {
  if (ms >= 60_000) return `${Math.round(ms / 60_000)} min`;
  if (ms >= 1000) return `${Math.round(ms / 1000)} s`;
  return `${ms} ms`;
}

/**
 * OneDrive / SharePoint destination: resolves the drive once, creates the folder chain, uploads the finished
 * workbook whole (one PUT for small files, an upload session for larger ones) with conflictBehavior replace (same
 * item id and links, one more version), and applies the locked-workbook policy. In update mode it also downloads
 * the current workbook with its eTag (`fetchCurrent`) and writes conditionally (`If-Match`, or create-only). The
 * parts live in drive-target.ts (where the file goes), workbook-upload.ts (simple vs session upload, conditions),
 * locked-workbook.ts (423 policy) and fetch-current.ts (the download); this module wires them and delivers.
 */
import { stat } from 'node:fs/promises';
import { AbortedError, AppError, DestinationError } from '../../shared/errors.js';
import type { Clock, Sleep } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';
import type { Redactor } from '../../shared/redact.js';
import { defaultRetryPolicy, type RetryPolicy } from '../../shared/retry.js';
import type {
  CurrentFile,
  DeliveryContext,
  DeliveryResult,
  Destination,
  FetchCurrentContext,
  FinishedFile,
} from '../../contracts/ports.js';
import type { DriveItem } from './drive-item.js';
import {
  createDriveTarget,
  planDriveTarget,
  type DriveSelector,
  type DriveTarget,
  type OneDriveTarget,
} from './drive-target.js';
import { createFetchCurrent } from './fetch-current.js';
import { createGraphApi, type GraphApi } from './graph-api.js';
import { createGraphAuth, type GraphAuth, type GraphCredential } from './graph-auth.js';
import { createHttpsTransport, type HttpTransport } from './https-transport.js';
import { uploadWaitingOutLock, type LockPolicy } from './locked-workbook.js';
import { UPLOAD_FRAGMENT_UNIT } from './upload-session.js';
import { createWorkbookUpload, type WorkbookUpload, type WriteConditions } from './workbook-upload.js';
import { skipWhenUnchanged, type HoldsPrevious } from '../skip-unchanged.js';

export type { DriveSelector, OneDriveTarget } from './drive-target.js';

export interface OneDriveDestinationOptions {
  readonly tenantId: string;
  readonly clientId: string;
  readonly credential: GraphCredential;
  readonly authorityHost: string;
  readonly graphBaseUrl: string;
  readonly caFile?: string | undefined;
  readonly drive: DriveSelector;
  /** Drive-relative file path, e.g. `Reports/Sales Pipeline.xlsx`. */
  readonly path: string;
  /** What to do while the workbook is locked (open in Excel): default retry 30 min, then fail. */
  readonly onLocked?: LockPolicy | undefined;
  /** Files up to this size go up in one PUT; larger ones in an upload session. Default 4 MiB. */
  readonly uploadSessionThresholdBytes?: number | undefined;
  /** Upload-session fragment size, rounded down to a multiple of 320 KiB. Default 32 × 320 KiB = 10 MiB. */
  readonly chunkBytes?: number | undefined;
  readonly retry?: RetryPolicy | undefined;
  /** Upload nothing when the data is unchanged and the delivered file is still there (default false). */
  readonly skipUnchanged?: boolean | undefined;
  /**
   * `update`: the file is the team's workbook, so teammates' saves change its size; "still holds the previous
   * delivery" (skipUnchanged) then means the same item id is still there. Default `replace`: same id and same size.
   */
  readonly mode?: 'replace' | 'update' | undefined;
}

export interface OneDriveDestinationDeps {
  readonly logger: Logger;
  readonly redactor: Redactor;
  readonly clock: Clock;
  readonly sleep: Sleep;
  readonly random?: (() => number) | undefined;
  /** Shared token provider of the app registration (see createGraphAuthRegistry); created here when absent. */
  readonly auth?: GraphAuth | undefined;
}

export interface OneDriveDestination extends Destination {
  /** Signs in and resolves the drive, the parent folder and the existing file, without writing anything. */
  resolveTarget(options?: { readonly signal?: AbortSignal }): Promise<OneDriveTarget>;
  fetchCurrent: NonNullable<Destination['fetchCurrent']>;
}

export const DEFAULT_UPLOAD_SESSION_THRESHOLD = 4 * 1024 * 1024;
export const DEFAULT_CHUNK_BYTES = 32 * UPLOAD_FRAGMENT_UNIT;
const DEFAULT_LOCKED: LockPolicy = { retryForMs: 30 * 60_000, then: 'fail' };

/**
 * Creates the destination. Throws DestinationError `ONEDRIVE_INVALID_PATH` at once for a path OneDrive would refuse
 * (see validateDrivePath); everything else fails in `deliver` with a DestinationError whose code names the cause
 * (`ONEDRIVE_LOCKED`, `ONEDRIVE_FORBIDDEN`, `ONEDRIVE_QUOTA_EXCEEDED`, `ONEDRIVE_AUTH_FAILED`, `DESTINATION_CHANGED`
 * when an update-mode condition is refused, ...). `fetchCurrent` throws `DESTINATION_TOO_LARGE` before downloading.
 */
export function createOneDriveDestination(
  options: OneDriveDestinationOptions,
  deps: OneDriveDestinationDeps,
): OneDriveDestination {
  // Checked now, path then site: a malformed one must fail in `validate`, not after the export ran.
  const plan = planDriveTarget(options.drive, options.path);
  const policy = options.retry ?? defaultRetryPolicy;

  const auth =
    deps.auth ??
    createGraphAuth(
      {
        tenantId: options.tenantId,
        clientId: options.clientId,
        credential: options.credential,
        authorityHost: options.authorityHost,
        graphBaseUrl: options.graphBaseUrl,
        caFile: options.caFile,
      },
      { logger: deps.logger, redactor: deps.redactor },
    );
  const transport: HttpTransport = createHttpsTransport({ caFile: options.caFile });
  const graph: GraphApi = createGraphApi({
    auth,
    transport,
    logger: deps.logger,
    clock: deps.clock,
    sleep: deps.sleep,
    random: deps.random,
    retry: policy,
  });
  const target = createDriveTarget(plan, graph);
  const io = {
    graph,
    transport,
    logger: deps.logger,
    redactor: deps.redactor,
    clock: deps.clock,
    sleep: deps.sleep,
    random: deps.random,
  };
  const upload = createWorkbookUpload(
    target,
    {
      thresholdBytes: options.uploadSessionThresholdBytes ?? DEFAULT_UPLOAD_SESSION_THRESHOLD,
      chunkBytes: options.chunkBytes ?? DEFAULT_CHUNK_BYTES,
      retry: policy,
    },
    io,
  );
  const fetchCurrentOnce = createFetchCurrent(target, { ...io, retry: policy });
  const deliverOnce = createDelivery(target, upload, { onLocked: options.onLocked ?? DEFAULT_LOCKED, policy }, deps);

  const deliver = async (file: FinishedFile, ctx: DeliveryContext): Promise<DeliveryResult> => {
    try {
      return await deliverOnce(file, ctx);
    } catch (error) {
      // A sleep or request cut short by the signal rejects with the signal's reason; report it as an abort.
      if (ctx.signal.aborted && !(error instanceof AbortedError)) {
        throw new AbortedError(
          `delivery to ${plan.driveLabel}/${options.path} aborted; the previous file is unchanged`,
          { cause: error },
        );
      }
      throw error;
    }
  };
  const fetchCurrent = async (ctx: FetchCurrentContext): Promise<CurrentFile | undefined> => {
    try {
      return await fetchCurrentOnce(ctx);
    } catch (error) {
      if (ctx.signal.aborted && !(error instanceof AbortedError)) {
        throw new AbortedError(`download of ${plan.driveLabel}/${options.path} aborted`, { cause: error });
      }
      throw error;
    }
  };

  // The same file (item id) as delivered, and in replace mode the same size: nobody replaced it since. In update
  // mode teammates' saves change the size, and the item is still the one the export keeps up to date.
  const holds: HoldsPrevious = async (previous, c) => {
    const found = await target.resolveTarget(c.signal);
    return (
      found.existing !== undefined &&
      found.existing.itemId === previous.itemId &&
      (options.mode === 'update' || found.existing.size === previous.bytes)
    );
  };
  const describe = (): string => `OneDrive ${plan.driveLabel}/${plan.segments.join('/')}`;
  const skipping = skipWhenUnchanged({ describe, deliver, fetchCurrent }, holds, options.skipUnchanged ?? false);
  return {
    ...skipping,
    fetchCurrent: skipping.fetchCurrent ?? fetchCurrent,
    resolveTarget: (opts = {}) => target.resolveTarget(opts.signal),
  };
}

/**
 * One delivery: checks the temp file is whole, uploads it through the lock policy, verifies the committed item and
 * warns when the file's item id changed since the last delivery (someone deleted or replaced it: old links break).
 */
function createDelivery(
  target: DriveTarget,
  upload: WorkbookUpload,
  options: { readonly onLocked: LockPolicy; readonly policy: RetryPolicy },
  deps: OneDriveDestinationDeps,
): (file: FinishedFile, ctx: DeliveryContext) => Promise<DeliveryResult> {
  const { plan } = target;
  const lockDeps = { clock: deps.clock, sleep: deps.sleep, random: deps.random, retry: options.policy };
  let lastItemId: string | undefined;

  return async (file, ctx) => {
    const log = ctx.logger;
    const warnings = [...plan.warnings];
    const local = await stat(file.path);
    if (local.size !== file.bytes) {
      throw new DestinationError(
        'ONEDRIVE_FILE_CHANGED',
        `'${file.path}' is ${local.size} bytes, expected ${file.bytes}`,
      );
    }
    const conditions = writeConditions(ctx);
    const delivered = await uploadWaitingOutLock(
      // The conditions guard the workbook that was read; a side-by-side copy is a new file next to it.
      (name) =>
        upload(file, name, ctx.signal, {
          ...(name === plan.fileName ? conditions : {}),
          onProgress: ctx.onUpload,
        }),
      plan,
      options.onLocked,
      ctx,
      lockDeps,
    );
    const { item, deliveredName } = delivered;
    warnings.push(...delivered.warnings);
    const location = target.locationOf(deliveredName);
    warnings.push(...checkDelivered(item, deliveredName, file.bytes, location));
    const sideBySide = deliveredName !== plan.fileName;
    if (!sideBySide) {
      if (lastItemId !== undefined && lastItemId !== item.id) {
        warnings.push(
          `'${plan.path}' has a new item id (the file was deleted or replaced by someone); old links to it no longer work`,
        );
      }
      lastItemId = item.id;
    }
    log.info({ location, itemId: item.id, bytes: file.bytes, sideBySide }, 'workbook delivered to OneDrive');
    return {
      location,
      webUrl: item.webUrl,
      itemId: item.id,
      eTag: item.eTag,
      ...(sideBySide ? { sideBySide: true } : {}),
      warnings,
    };
  };
}

/** The update-mode conditions of a delivery; ifMatch and ifAbsent contradict each other. */
function writeConditions(ctx: DeliveryContext): WriteConditions {
  if (ctx.ifMatch !== undefined && ctx.ifAbsent === true) {
    throw new AppError('INTERNAL', 'a delivery cannot require both a version (ifMatch) and no file (ifAbsent)');
  }
  return { ifMatch: ctx.ifMatch, ifAbsent: ctx.ifAbsent };
}

/**
 * Checks the driveItem Graph returned once the upload committed. By then the new version is live, so nothing here
 * may claim the previous file is intact. A different name means the bytes went somewhere else: an error that says
 * so. A different size is only a warning: SharePoint libraries with metadata columns rewrite Office files on upload
 * (property promotion), so the stored size can legitimately differ from ours.
 * @throws DestinationError `ONEDRIVE_VERIFY_FAILED` when the item is not the file we uploaded.
 */
export function checkDelivered(item: DriveItem, expectedName: string, bytes: number, location: string): string[] {
  // OneDrive names are case-insensitive; replacing keeps the existing item's casing.
  if (item.name.toLowerCase() !== expectedName.toLowerCase()) {
    throw new DestinationError(
      'ONEDRIVE_VERIFY_FAILED',
      `the upload to '${location}' was committed, but OneDrive answered with item '${item.name}' (id ${item.id}) instead of '${expectedName}'`,
      {
        hint: 'open the folder on OneDrive to see which file now holds the new workbook; check that nothing renames files in that library',
        details: { itemId: item.id, itemName: item.name },
      },
    );
  }
  if (item.size === bytes) return [];
  return [
    `'${location}' was replaced, but OneDrive reports ${item.size === undefined ? 'no size' : `${item.size} bytes`} instead of ${bytes}: ` +
      'SharePoint may have rewritten it to fill library columns (property promotion); open the file to check it',
  ];
}

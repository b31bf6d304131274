/**
 * OneDrive / SharePoint destination: resolves the drive once, creates the folder chain, uploads the finished
 * workbook whole (one PUT for small files, an upload session for larger ones) with conflictBehavior replace (same
 * item id and links, one more version), and applies the locked-workbook policy.
 */
import { readFile, stat } from 'node:fs/promises';
import { AbortedError, DestinationError } from '../../shared/errors.js';
import type { Clock, Sleep } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';
import type { Redactor } from '../../shared/redact.js';
import { backoffDelay, defaultRetryPolicy, type RetryPolicy } from '../../shared/retry.js';
import type { DeliveryContext, DeliveryResult, Destination, FinishedFile } from '../../contracts/ports.js';
import { contentTypeFor, driveItemSchema, driveSchema, siteSchema, type DriveItem } from './drive-item.js';
import { encodeDrivePath, sideBySideName, splitDrivePath, validateDrivePath } from '../../shared/drive-path.js';
import { createGraphApi, type GraphApi, type GraphCall } from './graph-api.js';
import { createGraphAuth, type GraphAuth, type GraphCredential } from './graph-auth.js';
import { GraphRequestError } from './graph-errors.js';
import { createHttpsTransport, type HttpTransport } from './https-transport.js';
import { uploadFileInSession, UPLOAD_FRAGMENT_UNIT } from './upload-session.js';
import { skipWhenUnchanged, type HoldsPrevious } from '../skip-unchanged.js';

export type DriveSelector = { readonly user: string } | { readonly driveId: string } | { readonly site: string };

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
  readonly onLocked?: { readonly retryForMs: number; readonly then: 'fail' | 'side-by-side' } | undefined;
  /** Files up to this size go up in one PUT; larger ones in an upload session. Default 4 MiB. */
  readonly uploadSessionThresholdBytes?: number | undefined;
  /** Upload-session fragment size, rounded down to a multiple of 320 KiB. Default 32 × 320 KiB = 10 MiB. */
  readonly chunkBytes?: number | undefined;
  readonly retry?: RetryPolicy | undefined;
  /** Upload nothing when the data is unchanged and the delivered file is still there (default false). */
  readonly skipUnchanged?: boolean | undefined;
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

/** What `resolveTarget` found, for `validate --online`. */
export interface OneDriveTarget {
  readonly driveId: string;
  /** Where the file goes, as in DeliveryResult.location. */
  readonly location: string;
  /** False when some folder of the path does not exist yet (it is created on the first upload). */
  readonly parentExists: boolean;
  /** The existing file, when there is one. */
  readonly existing?:
    { readonly itemId: string; readonly webUrl?: string | undefined; readonly size?: number | undefined } | undefined;
  readonly warnings: readonly string[];
}

export interface OneDriveDestination extends Destination {
  /** Signs in and resolves the drive, the parent folder and the existing file, without writing anything. */
  resolveTarget(options?: { readonly signal?: AbortSignal }): Promise<OneDriveTarget>;
}

export const DEFAULT_UPLOAD_SESSION_THRESHOLD = 4 * 1024 * 1024;
export const DEFAULT_CHUNK_BYTES = 32 * UPLOAD_FRAGMENT_UNIT;
const DEFAULT_LOCKED = { retryForMs: 30 * 60_000, then: 'fail' as const };

/**
 * Creates the destination. Throws DestinationError `ONEDRIVE_INVALID_PATH` at once for a path OneDrive would refuse
 * (see validateDrivePath); everything else fails in `deliver` with a DestinationError whose code names the cause
 * (`ONEDRIVE_LOCKED`, `ONEDRIVE_FORBIDDEN`, `ONEDRIVE_QUOTA_EXCEEDED`, `ONEDRIVE_AUTH_FAILED`, ...).
 */
export function createOneDriveDestination(
  options: OneDriveDestinationOptions,
  deps: OneDriveDestinationDeps,
): OneDriveDestination {
  const check = validateDrivePath(options.path);
  if (check.errors.length > 0) {
    throw new DestinationError(
      'ONEDRIVE_INVALID_PATH',
      `OneDrive path '${options.path}' is not valid: ${check.errors.join('; ')}`,
      {
        hint: 'rename the file or folders in destination.path',
        details: { errors: check.errors },
      },
    );
  }
  const segments = splitDrivePath(options.path);
  const fileName = segments[segments.length - 1] ?? '';
  const folders = segments.slice(0, -1);
  const driveLabel = describeDrive(options.drive);
  // Checked now, like the path: a malformed site must fail in `validate`, not after the export ran.
  const siteAddress = 'site' in options.drive ? sitePath(options.drive.site) : undefined;
  const policy = options.retry ?? defaultRetryPolicy;
  const onLocked = options.onLocked ?? DEFAULT_LOCKED;
  const threshold = options.uploadSessionThresholdBytes ?? DEFAULT_UPLOAD_SESSION_THRESHOLD;
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;

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

  // Resolved once per destination: drive ids never change; the parent id is re-resolved if it disappears.
  let driveId: string | undefined;
  let parentId: string | undefined;
  let lastItemId: string | undefined;

  const resolveDrive = async (signal: AbortSignal | undefined): Promise<string> => {
    if (driveId !== undefined) return driveId;
    const drive = options.drive;
    let path: string;
    if ('user' in drive) path = `/users/${encodeURIComponent(drive.user)}/drive`;
    else if ('driveId' in drive) path = `/drives/${encodeURIComponent(drive.driveId)}`;
    else {
      const site = await callExplained(
        {
          operation: `find SharePoint site '${drive.site}'`,
          method: 'GET',
          path: siteAddress ?? sitePath(drive.site),
          schema: siteSchema,
          signal,
        },
        `site '${drive.site}' not found: use the form host:/sites/Name (e.g. contoso.sharepoint.com:/sites/Sales)`,
      );
      path = `/sites/${encodeURIComponent(site.id)}/drive`;
    }
    const found = await callExplained(
      { operation: `find drive ${driveLabel}`, method: 'GET', path, schema: driveSchema, signal },
      'user' in drive
        ? `no OneDrive for user '${drive.user}': check the UPN and that the user is licensed and has opened OneDrive once`
        : `drive ${driveLabel} not found: check the drive id or site`,
    );
    driveId = found.id;
    return found.id;
  };

  /** Calls Graph and turns a 404 into a message about the configuration. */
  const callExplained = async <T>(call: GraphCall<T>, notFound: string): Promise<T> => {
    try {
      return await graph.call(call);
    } catch (error) {
      if (error instanceof GraphRequestError && error.status === 404) {
        throw new DestinationError('ONEDRIVE_DRIVE_NOT_FOUND', notFound, { cause: error, details: error.details });
      }
      throw error;
    }
  };

  const itemPath = (d: string, segs: readonly string[]): string =>
    segs.length === 0
      ? `/drives/${encodeURIComponent(d)}/root`
      : `/drives/${encodeURIComponent(d)}/root:/${encodeDrivePath(segs)}:`;

  /** GETs an item by path; undefined on 404. */
  const findItem = async (
    d: string,
    segs: readonly string[],
    signal: AbortSignal | undefined,
  ): Promise<DriveItem | undefined> => {
    try {
      return await graph.call({
        operation: `look up '${segs.join('/') || '/'}' on ${driveLabel}`,
        method: 'GET',
        path: itemPath(d, segs),
        schema: driveItemSchema,
        signal,
        noRetryStatuses: [404],
      });
    } catch (error) {
      if (error instanceof GraphRequestError && error.status === 404) return undefined;
      throw error;
    }
  };

  const requireFolder = (item: DriveItem, segs: readonly string[]): string => {
    if (item.folder === undefined) {
      throw new DestinationError(
        'ONEDRIVE_INVALID_PATH',
        `'${segs.join('/')}' on ${driveLabel} is a file, not a folder`,
        {
          hint: 'choose another folder in destination.path or move that file away',
        },
      );
    }
    return item.id;
  };

  /** Finds the parent folder, creating missing folders one level at a time. */
  const ensureParent = async (d: string, signal: AbortSignal): Promise<string> => {
    if (parentId !== undefined) return parentId;
    // Usually the folders exist: one GET for the whole chain instead of one call per level.
    const existing = await findItem(d, folders, signal);
    if (existing !== undefined) {
      parentId = requireFolder(existing, folders);
      return parentId;
    }
    let current = requireFolder((await findItem(d, [], signal)) ?? missingRoot(), []);
    for (let i = 0; i < folders.length; i++) {
      const segs = folders.slice(0, i + 1);
      const name = segs[segs.length - 1] ?? '';
      try {
        const created = await graph.call({
          operation: `create folder '${segs.join('/')}' on ${driveLabel}`,
          method: 'POST',
          path: `/drives/${encodeURIComponent(d)}/items/${encodeURIComponent(current)}/children`,
          body: { name, folder: {}, '@microsoft.graph.conflictBehavior': 'fail' },
          schema: driveItemSchema,
          signal,
          noRetryStatuses: [409],
        });
        current = created.id;
      } catch (error) {
        if (!(error instanceof GraphRequestError && error.status === 409)) throw error;
        // Already there (or created meanwhile by another run): use it.
        const found = await findItem(d, segs, signal);
        if (found === undefined) throw error;
        current = requireFolder(found, segs);
      }
    }
    parentId = current;
    return current;
  };

  const uploadOnce = async (
    file: FinishedFile,
    name: string,
    d: string,
    parent: string,
    signal: AbortSignal,
  ): Promise<DriveItem> => {
    const label = `${driveLabel}/${[...folders, name].join('/')}`;
    if (file.bytes <= threshold) {
      // Small files are read whole (at most the threshold) and sent in one request.
      const body = await readFile(file.path);
      return graph.call({
        operation: `upload '${label}'`,
        method: 'PUT',
        path: `/drives/${encodeURIComponent(d)}/items/${encodeURIComponent(parent)}:/${encodeURIComponent(name)}:/content?@microsoft.graph.conflictBehavior=replace`,
        body,
        headers: { 'Content-Type': contentTypeFor(name) },
        schema: driveItemSchema,
        signal,
      });
    }
    return uploadFileInSession(
      { driveId: d, parentId: parent, name, label, filePath: file.path, fileSize: file.bytes, chunkBytes, signal },
      {
        graph,
        transport,
        logger: deps.logger,
        redactor: deps.redactor,
        clock: deps.clock,
        sleep: deps.sleep,
        random: deps.random,
        retry: policy,
      },
    );
  };

  /** Uploads once, re-resolving the parent once if it vanished since it was cached (folder deleted or moved). */
  const uploadResolving = async (file: FinishedFile, name: string, signal: AbortSignal): Promise<DriveItem> => {
    const d = await resolveDrive(signal);
    const parent = await ensureParent(d, signal);
    try {
      return await uploadOnce(file, name, d, parent, signal);
    } catch (error) {
      if (!(error instanceof GraphRequestError && error.status === 404 && parentId !== undefined)) throw error;
      parentId = undefined;
      return uploadOnce(file, name, d, await ensureParent(d, signal), signal);
    }
  };

  const deliver = async (file: FinishedFile, ctx: DeliveryContext): Promise<DeliveryResult> => {
    try {
      return await deliverOnce(file, ctx);
    } catch (error) {
      // A sleep or request cut short by the signal rejects with the signal's reason; report it as an abort.
      if (ctx.signal.aborted && !(error instanceof AbortedError)) {
        throw new AbortedError(`delivery to ${driveLabel}/${options.path} aborted; the previous file is unchanged`, {
          cause: error,
        });
      }
      throw error;
    }
  };

  const deliverOnce = async (file: FinishedFile, ctx: DeliveryContext): Promise<DeliveryResult> => {
    const log = ctx.logger;
    const warnings = [...check.warnings];
    const local = await stat(file.path);
    if (local.size !== file.bytes) {
      throw new DestinationError(
        'ONEDRIVE_FILE_CHANGED',
        `'${file.path}' is ${local.size} bytes, expected ${file.bytes}`,
      );
    }
    const started = deps.clock.now().getTime();
    let item: DriveItem | undefined;
    let deliveredName = fileName;
    for (let attempt = 1; item === undefined; attempt++) {
      if (ctx.signal.aborted) throw new AbortedError(`delivery to ${driveLabel}/${options.path} aborted`);
      try {
        item = await uploadResolving(file, fileName, ctx.signal);
      } catch (error) {
        if (!(error instanceof GraphRequestError && error.status === 423)) throw error;
        const elapsed = deps.clock.now().getTime() - started;
        const remaining = onLocked.retryForMs - elapsed;
        if (remaining > 0) {
          const delayMs = Math.min(remaining, error.retryAfterMs ?? backoffDelay(attempt, policy, deps.random));
          log.warn(
            { target: `${driveLabel}/${options.path}`, attempt, delayMs, requestId: error.requestId },
            `'${options.path}' is locked (open in Excel?); retrying for up to ${formatDuration(remaining)}`,
          );
          await deps.sleep(delayMs, ctx.signal);
          continue;
        }
        if (onLocked.then === 'fail') {
          throw new DestinationError(
            'ONEDRIVE_LOCKED',
            `'${options.path}' on ${driveLabel} is locked (open for editing in Excel, or checked out) and stayed locked for ${formatDuration(onLocked.retryForMs)}; the previous version is unchanged`,
            {
              cause: error,
              retryable: true,
              hint: 'ask whoever has the workbook open to close it in Excel, then run the export again; or set onLocked.then: side-by-side to write a dated copy next to it',
              details: error.details,
            },
          );
        }
        deliveredName = sideBySideName(fileName, ctx.runStartedAt, ctx.timezone);
        const sbsCheck = validateDrivePath([...folders, deliveredName].join('/'));
        if (sbsCheck.errors.length > 0) {
          throw new DestinationError(
            'ONEDRIVE_INVALID_PATH',
            `side-by-side name '${deliveredName}' is not valid: ${sbsCheck.errors.join('; ')}`,
          );
        }
        warnings.push(
          `'${options.path}' was locked (open in Excel) for ${formatDuration(onLocked.retryForMs)}; wrote '${deliveredName}' next to it instead`,
        );
        log.warn(
          { target: `${driveLabel}/${options.path}`, sideBySide: deliveredName },
          'workbook locked; delivering side by side',
        );
        item = await uploadResolving(file, deliveredName, ctx.signal);
      }
    }
    warnings.push(
      ...checkDelivered(item, deliveredName, file.bytes, `${driveLabel}/${[...folders, deliveredName].join('/')}`),
    );
    const sideBySide = deliveredName !== fileName;
    if (!sideBySide) {
      if (lastItemId !== undefined && lastItemId !== item.id) {
        warnings.push(
          `'${options.path}' has a new item id (the file was deleted or replaced by someone); old links to it no longer work`,
        );
      }
      lastItemId = item.id;
    }
    const location = `${driveLabel}/${[...folders, deliveredName].join('/')}`;
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

  const resolveTarget = async (opts: { readonly signal?: AbortSignal } = {}): Promise<OneDriveTarget> => {
    const d = await resolveDrive(opts.signal);
    const parent = await findItem(d, folders, opts.signal);
    if (parent !== undefined) requireFolder(parent, folders);
    const existing = parent === undefined ? undefined : await findItem(d, segments, opts.signal);
    return {
      driveId: d,
      location: `${driveLabel}/${segments.join('/')}`,
      parentExists: parent !== undefined,
      existing:
        existing === undefined ? undefined : { itemId: existing.id, webUrl: existing.webUrl, size: existing.size },
      warnings: check.warnings,
    };
  };

  // The same file (item id) with the same size as delivered: nobody replaced it since.
  const holds: HoldsPrevious = async (previous, c) => {
    const target = await resolveTarget({ signal: c.signal });
    return (
      target.existing !== undefined &&
      target.existing.itemId === previous.itemId &&
      target.existing.size === previous.bytes
    );
  };
  const describe = (): string => `OneDrive ${driveLabel}/${segments.join('/')}`;
  return { ...skipWhenUnchanged({ describe, deliver }, holds, options.skipUnchanged ?? false), resolveTarget };
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

function missingRoot(): never {
  throw new DestinationError('ONEDRIVE_DRIVE_NOT_FOUND', 'the drive has no root folder');
}

/** `ops@contoso.com`, `contoso.sharepoint.com:/sites/Sales` or `drive b!abc`. */
function describeDrive(drive: DriveSelector): string {
  if ('user' in drive) return drive.user;
  if ('site' in drive) return drive.site;
  return `drive ${drive.driveId}`;
}

/**
 * `contoso.sharepoint.com:/sites/Sales` → `/sites/contoso.sharepoint.com:/sites/Sales`; `contoso.sharepoint.com`
 * (root site) → `/sites/contoso.sharepoint.com`. Each path segment is encoded.
 */
export function sitePath(site: string): string {
  const sep = site.indexOf(':/');
  const host = (sep === -1 ? site : site.slice(0, sep)).trim();
  if (site.includes('://') || !/^[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(host)) {
    throw new DestinationError('ONEDRIVE_INVALID_SITE', `site '${site}' is not valid`, {
      hint: 'use the form host:/sites/Name, e.g. contoso.sharepoint.com:/sites/Sales',
    });
  }
  if (sep === -1) return `/sites/${host}`;
  const rest = splitDrivePath(site.slice(sep + 2));
  return `/sites/${host}:/${encodeDrivePath(rest)}`;
}

function formatDuration(ms: number): string {
  if (ms >= 60_000) return `${Math.round(ms / 60_000)} min`;
  if (ms >= 1000) return `${Math.round(ms / 1000)} s`;
  return `${ms} ms`;
}

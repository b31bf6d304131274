/**
 * Where the workbook goes on OneDrive / SharePoint: the drive path checked offline, then the drive, the parent
 * folder (created one level at a time when missing) and the existing file resolved through Graph. The drive id and
 * the parent folder id are resolved once per destination and cached.
 */
import { DestinationError } from '../../shared/errors.js';
import { encodeDrivePath, splitDrivePath, validateDrivePath } from '../../shared/drive-path.js';
import { driveItemSchema, driveSchema, siteSchema, type DriveItem } from './drive-item.js';
import type { GraphApi, GraphCall } from './graph-api.js';
import { GraphRequestError } from './graph-errors.js';

export type DriveSelector = { readonly user: string } | { readonly driveId: string } | { readonly site: string };

/** What `resolveTarget` found, for `validate --online`. */
export interface OneDriveTarget {
  readonly driveId: string;
  /** Where the file goes, as in DeliveryResult.location. */
  readonly location: string;
  /** False when some folder of the path does not exist yet (it is created on the first upload). */
  readonly parentExists: boolean;
  /** The existing file, when there is one. */
  readonly existing?:
    | {
        readonly itemId: string;
        readonly webUrl?: string | undefined;
        readonly size?: number | undefined;
        readonly eTag?: string | undefined;
      }
    | undefined;
  readonly warnings: readonly string[];
}

/** The target as far as it can be known offline: the checked path and the drive. */
export interface DrivePlan {
  readonly drive: DriveSelector;
  /** The path as configured (for messages). */
  readonly path: string;
  readonly segments: readonly string[];
  readonly folders: readonly string[];
  readonly fileName: string;
  /** `ops@contoso.com`, `contoso.sharepoint.com:/sites/Sales` or `drive b!abc`. */
  readonly driveLabel: string;
  /** The Graph path of the SharePoint site, for a site drive. */
  readonly siteAddress: string | undefined;
  /** Path problems that only hurt some users (Excel desktop path limit). */
  readonly warnings: readonly string[];
}

/** The online half: resolves (and caches) the drive and the parent folder. */
export interface DriveTarget {
  readonly plan: DrivePlan;
  /** `drive/folders/name`: where a file of that name in the target folder is, as in DeliveryResult.location. */
  locationOf(name: string): string;
  /** The drive id (cached after the first call). @throws DestinationError `ONEDRIVE_DRIVE_NOT_FOUND` */
  resolveDrive(signal: AbortSignal | undefined): Promise<string>;
  /** The parent folder id, creating missing folders (cached after the first call). */
  ensureParent(driveId: string, signal: AbortSignal): Promise<string>;
  /** Forgets the cached parent folder id (it vanished); false when none was cached. */
  forgetParent(): boolean;
  /** Resolves the drive, the parent folder and the existing file without writing anything. */
  resolveTarget(signal: AbortSignal | undefined): Promise<OneDriveTarget>;
  /**
   * The file at the configured path with its metadata (size, eTag) in one GET; undefined when it (or its folder) does
   * not exist. @throws DestinationError `ONEDRIVE_INVALID_PATH` when the path is a folder.
   */
  findFile(
    signal: AbortSignal | undefined,
  ): Promise<{ readonly driveId: string; readonly item: DriveItem } | undefined>;
}

/**
 * Checks the destination path and the drive offline, so a bad one fails in `validate`, not after the export ran.
 * @throws DestinationError `ONEDRIVE_INVALID_PATH` for a path OneDrive would refuse (see validateDrivePath), then
 *   `ONEDRIVE_INVALID_SITE` for a malformed site (see {@link sitePath}).
 */
export function planDriveTarget(drive: DriveSelector, path: string): DrivePlan {
  const check = validateDrivePath(path);
  if (check.errors.length > 0) {
    throw new DestinationError(
      'ONEDRIVE_INVALID_PATH',
      `OneDrive path '${path}' is not valid: ${check.errors.join('; ')}`,
      {
        hint: 'rename the file or folders in destination.path',
        details: { errors: check.errors },
      },
    );
  }
  const segments = splitDrivePath(path);
  return {
    drive,
    path,
    segments,
    folders: segments.slice(0, -1),
    fileName: segments[segments.length - 1] ?? '',
    driveLabel: describeDrive(drive),
    siteAddress: 'site' in drive ? sitePath(drive.site) : undefined,
    warnings: check.warnings,
  };
}

function itemPath(driveId: string, segs: readonly string[]): string {
  return segs.length === 0
    ? `/drives/${encodeURIComponent(driveId)}/root`
    : `/drives/${encodeURIComponent(driveId)}/root:/${encodeDrivePath(segs)}:`;
}

/** Calls Graph and turns a 404 into a message about the configuration. */
async function callExplained<T>(graph: GraphApi, call: GraphCall<T>, notFound: string): Promise<T> {
  try {
    return await graph.call(call);
  } catch (error) {
    if (error instanceof GraphRequestError && error.status === 404) {
      throw new DestinationError('ONEDRIVE_DRIVE_NOT_FOUND', notFound, { cause: error, details: error.details });
    }
    throw error;
  }
}

/** The id of the plan's drive: a user's OneDrive, a drive by id, or a SharePoint site's default library. */
async function findDrive(graph: GraphApi, plan: DrivePlan, signal: AbortSignal | undefined): Promise<string> {
  const { drive, driveLabel } = plan;
  let path: string;
  if ('user' in drive) path = `/users/${encodeURIComponent(drive.user)}/drive`;
  else if ('driveId' in drive) path = `/drives/${encodeURIComponent(drive.driveId)}`;
  else {
    const site = await callExplained(
      graph,
      {
        operation: `find SharePoint site '${drive.site}'`,
        method: 'GET',
        path: plan.siteAddress ?? sitePath(drive.site),
        schema: siteSchema,
        signal,
      },
      `site '${drive.site}' not found: use the form host:/sites/Name (e.g. contoso.sharepoint.com:/sites/Sales)`,
    );
    path = `/sites/${encodeURIComponent(site.id)}/drive`;
  }
  const found = await callExplained(
    graph,
    { operation: `find drive ${driveLabel}`, method: 'GET', path, schema: driveSchema, signal },
    'user' in drive
      ? `no OneDrive for user '${drive.user}': check the UPN and that the user is licensed and has opened OneDrive once`
      : `drive ${driveLabel} not found: check the drive id or site`,
  );
  return found.id;
}

/** GETs an item by path; undefined on 404. */
async function findItem(
  graph: GraphApi,
  plan: DrivePlan,
  d: string,
  segs: readonly string[],
  signal: AbortSignal | undefined,
): Promise<DriveItem | undefined> {
  try {
    return await graph.call({
      operation: `look up '${segs.join('/') || '/'}' on ${plan.driveLabel}`,
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
}

function requireFolder(plan: DrivePlan, item: DriveItem, segs: readonly string[]): string {
  if (item.folder === undefined) {
    throw new DestinationError(
      'ONEDRIVE_INVALID_PATH',
      `'${segs.join('/')}' on ${plan.driveLabel} is a file, not a folder`,
      {
        hint: 'choose another folder in destination.path or move that file away',
      },
    );
  }
  return item.id;
}

/** Creates the plan's folders below the root one level at a time (an existing one is used) and returns the last. */
async function createFolders(graph: GraphApi, plan: DrivePlan, d: string, signal: AbortSignal): Promise<string> {
  const { folders } = plan;
  let current = requireFolder(plan, (await findItem(graph, plan, d, [], signal)) ?? missingRoot(), []);
  for (let i = 0; i < folders.length; i++) {
    const segs = folders.slice(0, i + 1);
    const name = segs[segs.length - 1] ?? '';
    try {
      const created = await graph.call({
        operation: `create folder '${segs.join('/')}' on ${plan.driveLabel}`,
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
      const found = await findItem(graph, plan, d, segs, signal);
      if (found === undefined) throw error;
      current = requireFolder(plan, found, segs);
    }
  }
  return current;
}

/** Creates the online target of `plan`, calling Graph through `graph`. */
export function createDriveTarget(plan: DrivePlan, graph: GraphApi): DriveTarget {
  const { driveLabel, folders, segments } = plan;
  // Resolved once per destination: drive ids never change; the parent id is re-resolved if it disappears.
  let driveId: string | undefined;
  let parentId: string | undefined;

  const resolveDrive = async (signal: AbortSignal | undefined): Promise<string> => {
    driveId ??= await findDrive(graph, plan, signal);
    return driveId;
  };

  /** Finds the parent folder, creating missing folders one level at a time. */
  const ensureParent = async (d: string, signal: AbortSignal): Promise<string> => {
    if (parentId !== undefined) return parentId;
    // Usually the folders exist: one GET for the whole chain instead of one call per level.
    const existing = await findItem(graph, plan, d, folders, signal);
    parentId =
      existing !== undefined ? requireFolder(plan, existing, folders) : await createFolders(graph, plan, d, signal);
    return parentId;
  };

  const resolveTarget = async (signal: AbortSignal | undefined): Promise<OneDriveTarget> => {
    const d = await resolveDrive(signal);
    const parent = await findItem(graph, plan, d, folders, signal);
    if (parent !== undefined) requireFolder(plan, parent, folders);
    const existing = parent === undefined ? undefined : await findItem(graph, plan, d, segments, signal);
    return {
      driveId: d,
      location: `${driveLabel}/${segments.join('/')}`,
      parentExists: parent !== undefined,
      existing:
        existing === undefined
          ? undefined
          : { itemId: existing.id, webUrl: existing.webUrl, size: existing.size, eTag: existing.eTag },
      warnings: plan.warnings,
    };
  };

  const findFile = async (
    signal: AbortSignal | undefined,
  ): Promise<{ readonly driveId: string; readonly item: DriveItem } | undefined> => {
    const d = await resolveDrive(signal);
    // A missing folder on the way answers 404 like a missing file: both mean "no workbook there yet".
    const item = await findItem(graph, plan, d, segments, signal);
    if (item === undefined) return undefined;
    if (item.folder !== undefined) {
      throw new DestinationError(
        'ONEDRIVE_INVALID_PATH',
        `'${plan.path}' on ${driveLabel} is a folder, not a workbook`,
        { hint: 'point destination.path at the .xlsx file, e.g. Reports/Sales Pipeline.xlsx' },
      );
    }
    return { driveId: d, item };
  };

  return {
    plan,
    locationOf: (name) => `${driveLabel}/${[...folders, name].join('/')}`,
    resolveDrive,
    ensureParent,
    forgetParent: () => {
      const had = parentId !== undefined;
      parentId = undefined;
      return had;
    },
    resolveTarget,
    findFile,
  };
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
 * @throws DestinationError `ONEDRIVE_INVALID_SITE` for a URL or a host that is not a DNS name.
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

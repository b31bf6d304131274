/**
 * Update mode's read: the workbook now on OneDrive, downloaded with the eTag it had when its metadata was read.
 *
 * The eTag is taken before the download on purpose. If a teammate saves between the two, the bytes may be newer
 * than the eTag says; the later `If-Match` with that older eTag then fails (412) and the run reads again, so a save
 * is never overwritten. The reverse (a newer eTag on older bytes) would silently drop their save.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { DestinationError } from '../../shared/errors.js';
import type { CurrentFile, FetchCurrentContext } from '../../contracts/ports.js';
import { fileTooLargeError } from '../update-mode-errors.js';
import { downloadItemContent, type ItemDownloadDeps } from './download-item.js';
import type { DriveTarget } from './drive-target.js';

/**
 * Creates the destination's `fetchCurrent`: undefined when no file is at the path yet; otherwise the file
 * downloaded into `ctx.tempDir` with its eTag as the version.
 * @throws DestinationError `DESTINATION_TOO_LARGE` (nothing downloaded) when the file is over `ctx.maxBytes`;
 *   `ONEDRIVE_INVALID_PATH` when the path is a folder; `ONEDRIVE_UNEXPECTED_RESPONSE` when Graph gives no eTag;
 *   the download's errors (see downloadItemContent), with no partial file left in `ctx.tempDir`.
 */
export function createFetchCurrent(
  target: DriveTarget,
  deps: ItemDownloadDeps,
): (ctx: FetchCurrentContext) => Promise<CurrentFile | undefined> {
  const { plan } = target;
  const location = target.locationOf(plan.fileName);
  return async (ctx) => {
    const found = await target.findFile(ctx.signal);
    if (found === undefined) return undefined;
    const { driveId, item } = found;
    if (item.size !== undefined && item.size > ctx.maxBytes) throw fileTooLargeError(location, item.size, ctx.maxBytes);
    if (item.eTag === undefined || item.eTag === '') {
      throw new DestinationError(
        'ONEDRIVE_UNEXPECTED_RESPONSE',
        `OneDrive gave no eTag for '${location}', so it cannot be updated without risking a teammate's save`,
        {
          hint: 'use destination.mode: replace for this library, or report it: Graph documents an eTag on every driveItem',
        },
      );
    }
    // A name of our own: the drive's file name may hold characters this disk refuses.
    const path = join(ctx.tempDir, `current-${randomBytes(6).toString('hex')}.xlsx`);
    const bytes = await downloadItemContent(
      { driveId, itemId: item.id, label: location, destPath: path, maxBytes: ctx.maxBytes, signal: ctx.signal },
      deps,
    );
    if (bytes === undefined) return undefined;
    ctx.logger.info({ location, itemId: item.id, bytes }, 'downloaded the workbook on OneDrive to update it');
    return { path, bytes, version: item.eTag, location };
  };
}

/** Checks shared by the two ways to write a file (simple PUT and upload session): where it goes, and the quota. */
import type { DriveStore, SimDrive, SimItem } from '../drive-store.js';
import { HttpFault } from '../graph-reply.js';
import type { ItemTarget } from '../item-path.js';

/**
 * The folder and name a file write lands in: an existing file's own parent and name, or a missing item's parent.
 * Throws 400 for a folder (or the root), 409 when the parent folder does not exist.
 */
export function contentTarget(store: DriveStore, target: ItemTarget): { parent: SimItem; name: string } {
  if (target.item !== undefined) {
    const parent = target.item.parentId === undefined ? undefined : store.item(target.item.parentId);
    if (parent === undefined || target.item.isFolder)
      throw new HttpFault(400, ['invalidRequest'], 'Cannot upload content to a folder.');
    return { parent, name: target.item.name };
  }
  if (target.parent === undefined || !target.parent.isFolder) {
    throw new HttpFault(409, ['conflict'], 'The parent folder of the item does not exist.');
  }
  return { parent: target.parent, name: target.name };
}

/** Throws 507 quotaLimitReached when `bytes` more would exceed the drive's quota (versions count). */
export function checkQuota(store: DriveStore, drive: SimDrive, bytes: number): void {
  if (drive.quotaBytes !== undefined && store.usedBytes(drive.id) + bytes > drive.quotaBytes) {
    throw new HttpFault(507, ['quotaLimitReached'], 'Insufficient Space Available');
  }
}

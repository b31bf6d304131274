/** Finding drives and items: by id (404 when absent), by a path under an item, or by a location a test names. */
import type { DriveStore, SimDrive, SimItem } from './drive-store.js';
import { HttpFault } from './graph-reply.js';

/** Where a path leads: the item, or (when only the last segment is missing) the folder to create it in. */
export interface ItemTarget {
  readonly item: SimItem | undefined;
  readonly parent: SimItem | undefined;
  readonly name: string;
}

/** The drive with this id; throws 404 itemNotFound. */
export function requireDrive(store: DriveStore, id: string): SimDrive {
  const d = store.driveById(id);
  if (d === undefined) throw new HttpFault(404, ['itemNotFound'], 'The drive could not be found.');
  return d;
}

/** The item with this id in `drive`; throws 404 itemNotFound (also for an item of another drive). */
export function requireItem(store: DriveStore, drive: SimDrive, id: string): SimItem {
  const item = store.item(id);
  if (item?.driveId !== drive.id) throw new HttpFault(404, ['itemNotFound'], 'The resource could not be found.');
  return item;
}

/** Walks a decoded relative path from `start`; returns the item or the deepest existing folder plus the rest. */
export function walk(store: DriveStore, start: SimItem, rel: string): ItemTarget {
  const segs = rel
    .split('/')
    .filter((s) => s !== '')
    .map((s) => decodeURIComponent(s));
  let cur = start;
  for (const [i, seg] of segs.entries()) {
    const next = store.child(cur.id, seg);
    if (next === undefined) {
      // Only the last segment may be missing for a create; a missing folder on the way means no parent.
      return { item: undefined, parent: i === segs.length - 1 ? cur : undefined, name: seg };
    }
    cur = next;
  }
  return { item: cur, parent: undefined, name: cur.name };
}

/**
 * An item by id, by a location as the destination reports it (`<drive label>/<path>`), or by a path in the first
 * drive; undefined when absent.
 */
export function findItem(store: DriveStore, ref: string): SimItem | undefined {
  const byId = store.item(ref);
  if (byId !== undefined) return byId;
  for (const d of store.drives) {
    for (const label of d.labels) {
      if (ref.toLowerCase().startsWith(`${label.toLowerCase()}/`)) {
        const root = store.item(d.rootId);
        return root === undefined
          ? undefined
          : walk(
              store,
              root,
              ref
                .slice(label.length + 1)
                .split('/')
                .map(encodeURIComponent)
                .join('/'),
            ).item;
      }
    }
  }
  const first = store.drives[0];
  const root = first === undefined ? undefined : store.item(first.rootId);
  return root === undefined ? undefined : walk(store, root, ref.split('/').map(encodeURIComponent).join('/')).item;
}

/** The JSON of Graph resources as the simulator returns them: driveItem and drive. */
import type { DriveStore, SimDrive, SimItem } from './drive-store.js';

/** The item's eTag (content and metadata): quoted, and new at every save because it carries the version. */
export function eTagOf(item: SimItem): string {
  return `"{${item.id}},${item.version}"`;
}

/** The item's cTag (content only); the simulator changes metadata only through saves, so it moves with the eTag. */
export function cTagOf(item: SimItem): string {
  return `"c:{${item.id}},${item.version}"`;
}

/** A driveItem: eTag and cTag carry the version, `webUrl` points under `origin/web/`. */
export function itemJson(store: DriveStore, origin: string, item: SimItem): Record<string, unknown> {
  const drive = store.driveById(item.driveId);
  const path = store.pathOf(item);
  const parent = item.parentId === undefined ? undefined : store.item(item.parentId);
  const parentPath = parent === undefined ? '' : store.pathOf(parent);
  return {
    id: item.id,
    name: item.name,
    size: item.size,
    eTag: eTagOf(item),
    cTag: cTagOf(item),
    createdDateTime: item.created.toISOString(),
    lastModifiedDateTime: item.modified.toISOString(),
    webUrl: `${origin}/web/${encodeURIComponent(drive?.diskName ?? '')}/${path.split('/').map(encodeURIComponent).join('/')}`,
    ...(parent === undefined
      ? {}
      : {
          parentReference: {
            driveId: item.driveId,
            id: parent.id,
            path: `/drives/${item.driveId}/root:${parentPath === '' ? '' : `/${parentPath}`}`,
          },
        }),
    ...(item.isFolder
      ? { folder: { childCount: store.children(item.id).length } }
      : {
          file: {
            mimeType: item.name.toLowerCase().endsWith('.xlsx')
              ? 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'
              : 'application/octet-stream',
          },
        }),
  };
}

/** A drive: a user's OneDrive (`business`) or a site's library (`documentLibrary`), with its quota. */
export function driveJson(store: DriveStore, origin: string, d: SimDrive): Record<string, unknown> {
  return {
    id: d.id,
    driveType: d.user !== undefined ? 'business' : 'documentLibrary',
    name: d.user !== undefined ? 'OneDrive' : 'Documents',
    webUrl: `${origin}/web/${encodeURIComponent(d.diskName)}`,
    quota: { total: d.quotaBytes ?? 1024 ** 4, used: store.usedBytes(d.id) },
  };
}

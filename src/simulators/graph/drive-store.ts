/**
 * Drives, items and versions of the Graph simulator. Metadata lives in memory; file bodies live on disk under
 * `storageDir/drives/<drive>/<path>` (so a demo's workbook can be opened from there), older versions under
 * `storageDir/.versions/<itemId>/`. Item ids stay the same when a file is replaced; each replace adds a version.
 */
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export interface SimDrive {
  readonly id: string;
  /** Labels a client may use for it: the user UPN, the site `host:/sites/Name`, or `drive <id>`. */
  readonly labels: readonly string[];
  readonly user?: string | undefined;
  readonly site?: { readonly id: string; readonly address: string } | undefined;
  readonly rootId: string;
  /** Folder under storageDir/drives. */
  readonly diskName: string;
  quotaBytes: number | undefined;
}

export interface SimVersion {
  readonly versionId: string;
  readonly size: number;
  readonly modified: Date;
  /** Disk path of this version's bytes. */
  readonly diskPath: string;
}

export interface SimItem {
  readonly id: string;
  readonly driveId: string;
  parentId: string | undefined;
  name: string;
  readonly isFolder: boolean;
  size: number;
  version: number;
  readonly created: Date;
  modified: Date;
  /** Older versions (the current one is the item itself). */
  readonly history: SimVersion[];
}

export interface DriveStore {
  readonly drives: readonly SimDrive[];
  driveById(id: string): SimDrive | undefined;
  driveByUser(upn: string): SimDrive | undefined;
  siteByAddress(address: string): SimDrive | undefined;
  siteById(id: string): SimDrive | undefined;
  item(id: string): SimItem | undefined;
  child(parentId: string, name: string): SimItem | undefined;
  children(parentId: string): SimItem[];
  /** Drive-relative path of an item (`Reports/Sales Pipeline.xlsx`; '' for the root). */
  pathOf(item: SimItem): string;
  /** Absolute disk path of an item's current bytes (files) or folder. */
  diskPathOf(item: SimItem): string;
  createFolder(parent: SimItem, name: string): Promise<SimItem>;
  /** Writes `sourceFile` (moved) as the new content of `parent/name`, replacing (same id, new version) or creating. */
  commitFile(
    parent: SimItem,
    name: string,
    sourceFile: string,
    size: number,
    now: Date,
  ): Promise<{ item: SimItem; created: boolean }>;
  usedBytes(driveId: string): number;
  readBytes(item: SimItem): Promise<Buffer>;
  /** A fresh temp file path for upload data. */
  tempPath(): string;
  writeTemp(data: Buffer): Promise<string>;
}

export interface DriveSeed {
  readonly users: readonly string[];
  readonly sites: readonly string[];
  readonly quotaBytes?: number | undefined;
}

function newId(): string {
  return `01${randomBytes(10).toString('hex').toUpperCase()}`;
}

function diskSafe(label: string): string {
  return label.replace(/[^A-Za-z0-9@._-]+/g, '_');
}

/** Creates the store with one drive per seeded user and site. */
export async function createDriveStore(storageDir: string, seed: DriveSeed, now: Date): Promise<DriveStore> {
  const items = new Map<string, SimItem>();
  const drives: SimDrive[] = [];
  await mkdir(join(storageDir, '.tmp'), { recursive: true });

  const addDrive = async (
    labels: string[],
    extra: Pick<SimDrive, 'user' | 'site'>,
    diskName: string,
  ): Promise<void> => {
    const id = `b!${randomBytes(24).toString('base64url')}`;
    const rootId = newId();
    items.set(rootId, {
      id: rootId,
      driveId: id,
      parentId: undefined,
      name: 'root',
      isFolder: true,
      size: 0,
      version: 1,
      created: now,
      modified: now,
      history: [],
    });
    drives.push({ id, labels: [...labels, `drive ${id}`], ...extra, rootId, diskName, quotaBytes: seed.quotaBytes });
    await mkdir(join(storageDir, 'drives', diskName), { recursive: true });
  };
  for (const user of seed.users) await addDrive([user], { user }, diskSafe(user));
  for (const site of seed.sites) {
    const host = site.split(':/')[0] ?? site;
    const siteId = `${host},${randomUUIDish()},${randomUUIDish()}`;
    await addDrive([site], { site: { id: siteId, address: site } }, diskSafe(site));
  }

  const pathOf = (item: SimItem): string => {
    const names: string[] = [];
    for (let cur: SimItem | undefined = item; cur?.parentId !== undefined; cur = items.get(cur.parentId))
      names.unshift(cur.name);
    return names.join('/');
  };
  const driveOf = (item: SimItem): SimDrive => {
    const d = drives.find((x) => x.id === item.driveId);
    if (d === undefined) throw new Error(`item ${item.id} has no drive`);
    return d;
  };
  const diskPathOf = (item: SimItem): string =>
    join(
      storageDir,
      'drives',
      driveOf(item).diskName,
      ...pathOf(item)
        .split('/')
        .filter((s) => s !== ''),
    );
  const child = (parentId: string, name: string): SimItem | undefined => {
    const lower = name.toLowerCase();
    for (const i of items.values()) if (i.parentId === parentId && i.name.toLowerCase() === lower) return i;
    return undefined;
  };
  const tempPath = (): string => join(storageDir, '.tmp', `${randomBytes(8).toString('hex')}.part`);

  return {
    drives,
    driveById: (id) => drives.find((d) => d.id === id),
    driveByUser: (upn) => drives.find((d) => d.user?.toLowerCase() === upn.toLowerCase()),
    siteByAddress: (address) => drives.find((d) => d.site?.address.toLowerCase() === address.toLowerCase()),
    siteById: (id) => drives.find((d) => d.site?.id === id),
    item: (id) => items.get(id),
    child,
    children: (parentId) => [...items.values()].filter((i) => i.parentId === parentId),
    pathOf,
    diskPathOf,
    async createFolder(parent, name) {
      const item: SimItem = {
        id: newId(),
        driveId: parent.driveId,
        parentId: parent.id,
        name,
        isFolder: true,
        size: 0,
        version: 1,
        created: now,
        modified: now,
        history: [],
      };
      items.set(item.id, item);
      await mkdir(diskPathOf(item), { recursive: true });
      return item;
    },
    async commitFile(parent, name, sourceFile, size, at) {
      const existing = child(parent.id, name);
      if (existing !== undefined) {
        // Keep the replaced bytes as a version, then move the new bytes into place: the id stays the same.
        const versionDir = join(storageDir, '.versions', existing.id);
        await mkdir(versionDir, { recursive: true });
        const versionPath = join(versionDir, `${existing.version}.0`);
        await copyFile(diskPathOf(existing), versionPath);
        existing.history.push({
          versionId: `${existing.version}.0`,
          size: existing.size,
          modified: existing.modified,
          diskPath: versionPath,
        });
        await rename(sourceFile, diskPathOf(existing));
        existing.size = size;
        existing.version++;
        existing.modified = at;
        return { item: existing, created: false };
      }
      const item: SimItem = {
        id: newId(),
        driveId: parent.driveId,
        parentId: parent.id,
        name,
        isFolder: false,
        size,
        version: 1,
        created: at,
        modified: at,
        history: [],
      };
      items.set(item.id, item);
      await mkdir(dirname(diskPathOf(item)), { recursive: true });
      await rename(sourceFile, diskPathOf(item));
      return { item, created: true };
    },
    usedBytes(driveId) {
      let total = 0;
      for (const i of items.values())
        if (i.driveId === driveId) total += i.size + i.history.reduce((s, v) => s + v.size, 0);
      return total;
    },
    readBytes: (item) => readFile(diskPathOf(item)),
    tempPath,
    async writeTemp(data) {
      const p = tempPath();
      await writeFile(p, data);
      return p;
    },
  };
}

/** Removes a temp file, ignoring a missing one. */
export async function removeTemp(path: string): Promise<void> {
  await rm(path, { force: true });
}

function randomUUIDish(): string {
  const h = randomBytes(16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

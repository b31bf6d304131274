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

/** The store's data: item metadata by id and the drives, with the folder their bytes live under. */
interface StoreData {
  readonly storageDir: string;
  readonly items: Map<string, SimItem>;
  readonly drives: SimDrive[];
}

/** Creates the store with one drive per seeded user and site. */
export async function createDriveStore(storageDir: string, seed: DriveSeed, now: Date): Promise<DriveStore> {
  const data: StoreData = { storageDir, items: new Map(), drives: [] };
  const { items, drives } = data;
  await mkdir(join(storageDir, '.tmp'), { recursive: true });
  await seedDrives(data, seed, now);
  const tempPath = (): string => join(storageDir, '.tmp', `${randomBytes(8).toString('hex')}.part`);

  return {
    drives,
    driveById: (id) => drives.find((d) => d.id === id),
    driveByUser: (upn) => drives.find((d) => d.user?.toLowerCase() === upn.toLowerCase()),
    siteByAddress: (address) => drives.find((d) => d.site?.address.toLowerCase() === address.toLowerCase()),
    siteById: (id) => drives.find((d) => d.site?.id === id),
    item: (id) => items.get(id),
    child: (parentId, name) => findChild(data, parentId, name),
    children: (parentId) => [...items.values()].filter((i) => i.parentId === parentId),
    pathOf: (item) => pathOf(data, item),
    diskPathOf: (item) => diskPathOf(data, item),
    createFolder: (parent, name) => createFolder(data, parent, name, now),
    commitFile: (parent, name, sourceFile, size, at) => commitFile(data, parent, name, sourceFile, size, at),
    usedBytes(driveId) {
      let total = 0;
      for (const i of items.values())
        if (i.driveId === driveId) total += i.size + i.history.reduce((s, v) => s + v.size, 0);
      return total;
    },
    readBytes: (item) => readFile(diskPathOf(data, item)),
    tempPath,
    async writeTemp(bytes) {
      const p = tempPath();
      await writeFile(p, bytes);
      return p;
    },
  };
}

/** One drive (with its root folder and disk folder) per seeded user, then per seeded site. */
async function seedDrives(data: StoreData, seed: DriveSeed, now: Date): Promise<void> {
  const addDrive = async (
    labels: string[],
    extra: Pick<SimDrive, 'user' | 'site'>,
    diskName: string,
  ): Promise<void> => {
    const id = `b!${randomBytes(24).toString('base64url')}`;
    const rootId = newId();
    data.items.set(rootId, {
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
    data.drives.push({
      id,
      labels: [...labels, `drive ${id}`],
      ...extra,
      rootId,
      diskName,
      quotaBytes: seed.quotaBytes,
    });
    await mkdir(join(data.storageDir, 'drives', diskName), { recursive: true });
  };
  for (const user of seed.users) await addDrive([user], { user }, diskSafe(user));
  for (const site of seed.sites) {
    const host = site.split(':/')[0] ?? site;
    const siteId = `${host},${randomUUIDish()},${randomUUIDish()}`;
    await addDrive([site], { site: { id: siteId, address: site } }, diskSafe(site));
  }
}

function pathOf(data: StoreData, item: SimItem): string {
  const names: string[] = [];
  for (let cur: SimItem | undefined = item; cur?.parentId !== undefined; cur = data.items.get(cur.parentId))
    names.unshift(cur.name);
  return names.join('/');
}

function diskPathOf(data: StoreData, item: SimItem): string {
  const drive = data.drives.find((x) => x.id === item.driveId);
  if (drive === undefined) throw new Error(`item ${item.id} has no drive`);
  return join(
    data.storageDir,
    'drives',
    drive.diskName,
    ...pathOf(data, item)
      .split('/')
      .filter((s) => s !== ''),
  );
}

/** The child of `parentId` named `name`, compared case-insensitively as OneDrive does. */
function findChild(data: StoreData, parentId: string, name: string): SimItem | undefined {
  const lower = name.toLowerCase();
  for (const i of data.items.values()) if (i.parentId === parentId && i.name.toLowerCase() === lower) return i;
  return undefined;
}

async function createFolder(data: StoreData, parent: SimItem, name: string, now: Date): Promise<SimItem> {
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
  data.items.set(item.id, item);
  await mkdir(diskPathOf(data, item), { recursive: true });
  return item;
}

async function commitFile(
  data: StoreData,
  parent: SimItem,
  name: string,
  sourceFile: string,
  size: number,
  at: Date,
): Promise<{ item: SimItem; created: boolean }> {
  const existing = findChild(data, parent.id, name);
  if (existing !== undefined) {
    // Keep the replaced bytes as a version, then move the new bytes into place: the id stays the same.
    const versionDir = join(data.storageDir, '.versions', existing.id);
    await mkdir(versionDir, { recursive: true });
    const versionPath = join(versionDir, `${existing.version}.0`);
    await copyFile(diskPathOf(data, existing), versionPath);
    existing.history.push({
      versionId: `${existing.version}.0`,
      size: existing.size,
      modified: existing.modified,
      diskPath: versionPath,
    });
    await rename(sourceFile, diskPathOf(data, existing));
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
  data.items.set(item.id, item);
  await mkdir(dirname(diskPathOf(data, item)), { recursive: true });
  await rename(sourceFile, diskPathOf(data, item));
  return { item, created: true };
}

/** Removes a temp file, ignoring a missing one. */
export async function removeTemp(path: string): Promise<void> {
  await rm(path, { force: true });
}

function randomUUIDish(): string {
  const h = randomBytes(16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

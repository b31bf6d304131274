import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './onedrive-harness.js';

describe('OneDrive destination against the Graph simulator: uploads', () => {
  let h: Harness;
  beforeAll(async () => {
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
    nock.enableNetConnect();
  });

  it.each([
    ['100 KB (one PUT)', 100 * 1024, 0],
    ['5 MB (upload session)', 5 * 1024 * 1024, 1],
    ['30 MB (upload session)', 30 * 1024 * 1024, 1],
  ])('uploads %s and the simulator stores identical bytes', async (_label, bytes, sessions) => {
    const before = h.sim.stats.uploadSessionsCreated;
    const file = await h.makeFile(bytes);
    const dest = h.destination({ path: `Sizes/${bytes}.xlsx` });
    const result = await dest.deliver(file, h.context());
    expect(result.location).toBe(`ops@contoso.com/Sizes/${bytes}.xlsx`);
    expect(result.itemId).toMatch(/^01/);
    expect(result.webUrl).toContain('/web/');
    const stored = await h.sim.readFile(result.location);
    expect(stored?.equals(file.data)).toBe(true);
    expect(h.sim.stats.uploadSessionsCreated - before).toBe(sessions);
    const writes = h.sim.stats.log.filter((l) => l.target.includes(`${bytes}.xlsx`) && l.method !== 'GET');
    // Replace, never rename: the query for a simple PUT, the session's item body otherwise (checked by the simulator).
    if (sessions === 0)
      expect(writes.map((w) => w.target)).toEqual([
        expect.stringMatching(/:\/content\?@microsoft\.graph\.conflictBehavior=replace$/),
      ]);
    else expect(writes.map((w) => w.target)).toEqual([expect.stringMatching(/:\/createUploadSession$/)]);
  });
});

describe('OneDrive destination: drives, folders, replace semantics, logs', () => {
  let h: Harness;
  beforeAll(async () => {
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
    nock.enableNetConnect();
  });

  it('replacing keeps the item id and webUrl, adds a version, and changes the eTag', async () => {
    const dest = h.destination({ path: 'Replace/Book.xlsx' });
    const first = await dest.deliver(await h.makeFile(50_000), h.context());
    const secondFile = await h.makeFile(6 * 1024 * 1024);
    const second = await dest.deliver(secondFile, h.context());
    // A second destination (a later process) sees the same item too.
    const thirdFile = await h.makeFile(70_000);
    const third = await h.destination({ path: 'Replace/Book.xlsx' }).deliver(thirdFile, h.context());
    expect(second.itemId).toBe(first.itemId);
    expect(third.itemId).toBe(first.itemId);
    expect(third.webUrl).toBe(first.webUrl);
    expect(new Set([first.eTag, second.eTag, third.eTag]).size).toBe(3);
    expect(h.sim.itemInfo(first.itemId ?? '')?.versions).toBe(3);
    expect((await h.sim.readFile('ops@contoso.com/Replace/Book.xlsx'))?.equals(thirdFile.data)).toBe(true);
    expect(second.warnings).toEqual([]);
  });

  it('creates missing folders one level at a time and reuses existing ones (409 → GET)', async () => {
    await h.destination({ path: 'Deep/Existing.xlsx' }).deliver(await h.makeFile(10), h.context());
    const errorsBefore = h.sim.stats.errors.length;
    const result = await h
      .destination({ path: 'Deep/Er/Folder/File #1 & 50%.xlsx' })
      .deliver(await h.makeFile(1000), h.context());
    expect(result.location).toBe('ops@contoso.com/Deep/Er/Folder/File #1 & 50%.xlsx');
    expect(h.sim.itemInfo('ops@contoso.com/Deep/Er/Folder')?.path).toBe('Deep/Er/Folder');
    // 'Deep' already existed: its create answered 409 nameAlreadyExists, then the folder was fetched.
    const newErrors = h.sim.stats.errors.slice(errorsBefore).map((e) => e.status);
    expect(newErrors.filter((s) => s === 409)).toHaveLength(1);
  });

  it('delivers to a SharePoint site library and to a drive by id', async () => {
    const site = 'contoso.sharepoint.com:/sites/Sales';
    const bySite = await h
      .destination({ drive: { site }, path: 'Shared Reports/Pipeline.xlsx' })
      .deliver(await h.makeFile(2000), h.context());
    expect(bySite.location).toBe(`${site}/Shared Reports/Pipeline.xlsx`);
    expect(h.sim.itemInfo(bySite.location)?.driveId).toBe(h.sim.driveIdFor({ site }));
    const driveId = h.sim.driveIdFor({ user: 'ops@contoso.com' });
    const byId = await h
      .destination({ drive: { driveId }, path: 'ById.xlsx' })
      .deliver(await h.makeFile(3000), h.context());
    expect(byId.location).toBe(`drive ${driveId}/ById.xlsx`);
    expect(h.sim.itemInfo('ops@contoso.com/ById.xlsx')?.id).toBe(byId.itemId);
  });

  it('resolveTarget signs in and resolves drive and folder without writing', async () => {
    const dest = h.destination({ path: 'Resolve/Later.xlsx' });
    const uploadsBefore = h.sim.stats.simpleUploads + h.sim.stats.uploadSessionsCreated;
    const before = await dest.resolveTarget();
    expect(before).toMatchObject({
      driveId: h.sim.driveIdFor({ user: 'ops@contoso.com' }),
      parentExists: false,
      existing: undefined,
    });
    expect(h.sim.itemInfo('ops@contoso.com/Resolve')).toBeUndefined();
    expect(h.sim.stats.simpleUploads + h.sim.stats.uploadSessionsCreated).toBe(uploadsBefore);
    const delivered = await dest.deliver(await h.makeFile(10), h.context());
    const after = await dest.resolveTarget();
    expect(after.parentExists).toBe(true);
    expect(after.existing?.itemId).toBe(delivered.itemId);
  });

  it('reports an unknown user and an unknown site clearly', async () => {
    await expect(
      h.destination({ drive: { user: 'nobody@contoso.com' } }).deliver(await h.makeFile(10), h.context()),
    ).rejects.toMatchObject({
      code: 'ONEDRIVE_DRIVE_NOT_FOUND',
      message: expect.stringContaining("no OneDrive for user 'nobody@contoso.com'"),
    });
    await expect(
      h.destination({ drive: { site: 'contoso.sharepoint.com:/sites/Nope' } }).resolveTarget(),
    ).rejects.toMatchObject({
      code: 'ONEDRIVE_DRIVE_NOT_FOUND',
    });
  });

  it('never sends a token to the upload URL, sends aligned fragments, and never logs tokens, secrets or upload URLs', async () => {
    const seen = h.sim.stats.fragmentSizes.length;
    const size = 5 * 1024 * 1024 + 17;
    await h.destination({ path: 'Logs/Big.xlsx', chunkBytes: 1_000_000 }).deliver(await h.makeFile(size), h.context());
    expect(h.sim.stats.authorizationOnUploadUrl).toBe(0);
    const fragments = h.sim.stats.fragmentSizes.slice(seen);
    // 1,000,000 rounded down to 3 × 320 KiB; only the last fragment is shorter.
    expect(fragments.slice(0, -1).every((n) => n === 983_040)).toBe(true);
    expect(fragments.reduce((a, b) => a + b, 0)).toBe(size);
    const text = h.logs.join('');
    expect(h.logs.length).toBeGreaterThan(0);
    expect(text).not.toContain('tempauth');
    expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{5,}\./);
    expect(text).not.toContain('CLIENT_SECRET');
    expect(text).not.toContain('sim-secret-Value');
    expect(text).not.toMatch(/\/up\/[0-9a-f-]{36}/);
  });
});

import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AbortedError, DestinationError } from '../../src/shared/errors.js';
import { startHarness, type Harness } from './onedrive-harness.js';

const MB = 1024 * 1024;

describe('OneDrive destination: faults injected by the Graph simulator', () => {
  let h: Harness;
  beforeAll(async () => {
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
    h = await startHarness({ users: ['ops@contoso.com'] });
  });
  afterEach(() => {
    h.sim.faults.clear();
    h.onSleep = undefined;
  });
  afterAll(async () => {
    await h.close();
    nock.enableNetConnect();
  });

  /** Uploads a first version, so failure tests can check it survives. */
  async function seed(path: string): Promise<Buffer> {
    const file = await h.makeFile(40_000);
    await h.destination({ path }).deliver(file, h.context());
    return file.data;
  }

  it('retries a workbook locked for a few attempts, then replaces it', async () => {
    await seed('Locked/Brief.xlsx');
    h.sim.faults.lock('Locked/Brief.xlsx', { attempts: 3 });
    const file = await h.makeFile(30_000);
    const result = await h
      .destination({ path: 'Locked/Brief.xlsx', onLocked: { retryForMs: 60_000, then: 'fail' } })
      .deliver(file, h.context());
    expect(result.sideBySide).toBeUndefined();
    expect((await h.sim.readFile(result.location))?.equals(file.data)).toBe(true);
    expect(h.logs.join('')).toContain("'Locked/Brief.xlsx' is locked (open in Excel?)");
  });

  it('fails with ONEDRIVE_LOCKED after retryFor, naming the file and the fix, and keeps the previous version', async () => {
    const previous = await seed('Locked/Held.xlsx');
    h.sim.faults.lock('Locked/Held.xlsx', { attempts: 10_000 });
    const sleepsBefore = h.sleeps.length;
    const error = await h
      .destination({ path: 'Locked/Held.xlsx', onLocked: { retryForMs: 60_000, then: 'fail' } })
      .deliver(await h.makeFile(7 * MB), h.context())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DestinationError);
    expect(error).toMatchObject({ code: 'ONEDRIVE_LOCKED' });
    const e = error as DestinationError;
    expect(e.message).toContain("'Locked/Held.xlsx' on ops@contoso.com is locked");
    expect(e.hint).toContain('close it in Excel');
    expect(e.hint).toContain('onLocked.then: side-by-side');
    // The waits fill the retry window (less the real time the attempts took), no more.
    const waited = h.sleeps.slice(sleepsBefore).reduce((a, b) => a + b, 0);
    expect(waited).toBeLessThanOrEqual(60_000);
    expect(waited).toBeGreaterThan(50_000);
    expect((await h.sim.readFile('ops@contoso.com/Locked/Held.xlsx'))?.equals(previous)).toBe(true);
    expect(h.sim.itemInfo('ops@contoso.com/Locked/Held.xlsx')?.versions).toBe(1);
    expect(h.sim.openUploadSessions()).toBe(0);
  });

  it('writes side by side when the workbook stays locked and onLocked.then is side-by-side', async () => {
    const previous = await seed('Locked/Team.xlsx');
    h.sim.faults.lock('Locked/Team.xlsx', { attempts: 10_000 });
    const file = await h.makeFile(20_000);
    const result = await h
      .destination({ path: 'Locked/Team.xlsx', onLocked: { retryForMs: 1_000, then: 'side-by-side' } })
      .deliver(file, h.context());
    // Run started 05:00 UTC = 06:00 in Europe/Paris (the export's zone).
    expect(result.location).toBe('ops@contoso.com/Locked/Team (refreshed 2026-11-27 0600).xlsx');
    expect(result.sideBySide).toBe(true);
    expect(result.warnings.join(' ')).toContain("wrote 'Team (refreshed 2026-11-27 0600).xlsx' next to it");
    expect((await h.sim.readFile(result.location))?.equals(file.data)).toBe(true);
    expect((await h.sim.readFile('ops@contoso.com/Locked/Team.xlsx'))?.equals(previous)).toBe(true);
  });

  it('honours Retry-After in seconds on a throttled simple upload (429)', async () => {
    h.sim.faults.throttle({ ops: ['content'], status: 429, retryAfter: '7', times: 2 });
    const before = h.sleeps.length;
    const file = await h.makeFile(5_000);
    const result = await h.destination({ path: 'Throttle/Small.xlsx' }).deliver(file, h.context());
    expect(h.sleeps.slice(before)).toEqual([7_000, 7_000]);
    expect((await h.sim.readFile(result.location))?.equals(file.data)).toBe(true);
  });

  it('honours Retry-After as an HTTP date (503 on createUploadSession) and on a fragment', async () => {
    const at = new Date(h.clock.now().getTime() + 20_000).toUTCString();
    h.sim.faults.throttle({ ops: ['createUploadSession'], status: 503, retryAfter: at });
    h.sim.faults.throttle({ ops: ['uploadFragment'], status: 429, retryAfter: '3', skip: 2 });
    const before = h.sleeps.length;
    const file = await h.makeFile(5 * MB);
    const result = await h.destination({ path: 'Throttle/Big.xlsx' }).deliver(file, h.context());
    const waits = h.sleeps.slice(before);
    expect(waits[0]).toBeGreaterThan(15_000); // second resolution of HTTP dates
    expect(waits[0]).toBeLessThanOrEqual(20_000);
    expect(waits[1]).toBe(3_000);
    expect((await h.sim.readFile(result.location))?.equals(file.data)).toBe(true);
  });

  it('backs off exponentially with jitter when Graph answers 503 without Retry-After', async () => {
    h.sim.faults.add({ ops: ['graph'], status: 503, codes: ['serviceNotAvailable'], times: 3 });
    const before = h.sleeps.length;
    await h.destination({ path: 'Throttle/Backoff.xlsx' }).deliver(await h.makeFile(100), h.context());
    // base 100 ms doubling, jitter in [d/2, d] with random() = 0.5.
    expect(h.sleeps.slice(before)).toEqual([75, 150, 300]);
  });

  it('stops retrying at the policy cap and reports the last error', async () => {
    h.sim.faults.add({ ops: ['graph'], status: 503, codes: ['serviceNotAvailable'], times: 100 });
    const error = await h
      .destination({ path: 'Throttle/Never.xlsx' })
      .deliver(await h.makeFile(100), h.context())
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ONEDRIVE_THROTTLED', status: 503 });
    expect((error as Error).message).toMatch(/HTTP 503 serviceNotAvailable: .*\(request-id [0-9a-f-]+\)/);
  });

  it.each([
    ['dropped before it was stored', (hh: Harness) => hh.sim.faults.dropFragment({ when: 'before-store', skip: 2 })],
    ['dropped after it was stored', (hh: Harness) => hh.sim.faults.dropFragment({ when: 'after-store', skip: 2 })],
    ['answered 416', (hh: Harness) => hh.sim.faults.rangeError({ skip: 1 })],
    [
      'answered 500 twice',
      (hh: Harness) => hh.sim.faults.add({ ops: ['uploadFragment'], status: 500, times: 2, skip: 1 }),
    ],
  ])('resumes from nextExpectedRanges when a fragment is %s', async (_label, inject) => {
    inject(h);
    const sessionsBefore = h.sim.stats.uploadSessionsCreated;
    const file = await h.makeFile(5 * MB + 1234);
    const result = await h.destination({ path: 'Resume/File.xlsx' }).deliver(file, h.context());
    expect((await h.sim.readFile(result.location))?.equals(file.data)).toBe(true);
    expect(h.sim.stats.uploadSessionsCreated - sessionsBefore).toBe(1);
    expect(h.sim.faults.pending()).toEqual([]);
    expect(h.sim.openUploadSessions()).toBe(0);
  });

  it('drops the last fragment after commit: uploads again in a new session (never a half file)', async () => {
    h.sim.faults.dropFragment({ when: 'after-store', skip: 4 }); // 5 fragments of 4 × 320 KiB for 5 MiB + 1
    const file = await h.makeFile(5 * MB + 1);
    const result = await h.destination({ path: 'Resume/LastDropped.xlsx' }).deliver(file, h.context());
    expect((await h.sim.readFile(result.location))?.equals(file.data)).toBe(true);
  });

  it('starts a new session when the session expires (404) or its URL is refused (401)', async () => {
    h.sim.faults.expireSession({ skip: 2 });
    h.sim.faults.add({ ops: ['uploadFragment'], status: 401, codes: ['unauthenticated'], skip: 4 });
    const sessionsBefore = h.sim.stats.uploadSessionsCreated;
    const file = await h.makeFile(5 * MB);
    const result = await h.destination({ path: 'Resume/Expired.xlsx' }).deliver(file, h.context());
    expect((await h.sim.readFile(result.location))?.equals(file.data)).toBe(true);
    expect(h.sim.stats.uploadSessionsCreated - sessionsBefore).toBe(3);
    expect(h.logs.join('')).toContain('session expired or not found (404)');
  });

  it('gets a fresh token once after a 401 mid-run (all tokens expired)', async () => {
    const dest = h.destination({ path: 'Tokens/Refresh.xlsx' });
    await dest.deliver(await h.makeFile(1000), h.context());
    const issued = h.sim.stats.tokensIssued;
    h.sim.faults.expireTokens();
    const file = await h.makeFile(5 * MB);
    const result = await dest.deliver(file, h.context());
    expect(h.sim.stats.tokensIssued).toBe(issued + 1);
    expect((await h.sim.readFile(result.location))?.equals(file.data)).toBe(true);
  });

  it('deletes the upload session on abort and keeps the previous version', async () => {
    const previous = await seed('Abort/File.xlsx');
    const controller = new AbortController();
    h.sim.faults.throttle({ ops: ['uploadFragment'], status: 503, retryAfter: '1', skip: 2 });
    h.onSleep = () => controller.abort(new Error('shutdown'));
    const deletedBefore = h.sim.stats.uploadSessionsDeleted;
    const error = await h
      .destination({ path: 'Abort/File.xlsx' })
      .deliver(await h.makeFile(5 * MB), h.context(controller.signal))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortedError);
    expect(h.sim.stats.uploadSessionsDeleted - deletedBefore).toBe(1);
    expect(h.sim.openUploadSessions()).toBe(0);
    expect((await h.sim.readFile('ops@contoso.com/Abort/File.xlsx'))?.equals(previous)).toBe(true);
  });

  it('gives up on a fragment that keeps failing, deletes the session and keeps the previous version', async () => {
    const previous = await seed('Broken/File.xlsx');
    h.sim.faults.add({ ops: ['uploadFragment'], status: 500, times: 100, skip: 1 });
    const error = await h
      .destination({ path: 'Broken/File.xlsx' })
      .deliver(await h.makeFile(5 * MB), h.context())
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ONEDRIVE_UPLOAD_FAILED', retryable: true });
    expect((error as Error).message).toContain("upload of 'ops@contoso.com/Broken/File.xlsx' failed after 6 attempts");
    expect(h.sim.openUploadSessions()).toBe(0);
    expect((await h.sim.readFile('ops@contoso.com/Broken/File.xlsx'))?.equals(previous)).toBe(true);
    expect(h.sim.itemInfo('ops@contoso.com/Broken/File.xlsx')?.versions).toBe(1);
  });

  it('rejects an invalid path before any request', async () => {
    const requests = h.sim.stats.requests;
    expect(() => h.destination({ path: 'Reports/Q1: pipeline?.xlsx' })).toThrow(
      expect.objectContaining({ code: 'ONEDRIVE_INVALID_PATH', message: expect.stringContaining("contains ':', '?'") }),
    );
    expect(h.sim.stats.requests).toBe(requests);
  });

  it('never logs a token or an upload URL while handling all of the above', () => {
    const text = h.logs.join('');
    expect(text).toContain('retry in');
    expect(text).not.toContain('tempauth');
    expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{5,}\./);
    expect(text).not.toMatch(/\/up\/[0-9a-f-]{36}/);
  });
});

describe('OneDrive destination: quota and permissions', () => {
  let h: Harness;
  beforeAll(async () => {
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
    h = await startHarness({
      quotaBytes: 6 * MB,
      clients: [
        { clientId: '66666666-7777-8888-9999-000000000000', clientSecret: 'sim-secret-Value~123456789' },
        { clientId: 'no-permissions', clientSecret: 'another-secret-123', roles: [] },
      ],
    });
  });
  afterAll(async () => {
    await h.close();
    nock.enableNetConnect();
  });

  it('fails with a clear quota message (507) before sending bytes', async () => {
    const fragments = h.sim.stats.fragmentsAccepted;
    const error = await h
      .destination({ path: 'Quota/Big.xlsx' })
      .deliver(await h.makeFile(7 * MB), h.context())
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ONEDRIVE_QUOTA_EXCEEDED', retryable: false });
    expect(h.sim.stats.errors.filter((e) => e.status === 507)).toHaveLength(1);
    expect((error as DestinationError).userMessage).toContain('the drive is out of storage');
    expect(h.sim.stats.fragmentsAccepted).toBe(fragments);
  });

  it('names the permissions to grant on 403', async () => {
    const error = await h
      .destination({ clientId: 'no-permissions', credential: { clientSecret: 'another-secret-123' } })
      .deliver(await h.makeFile(100), h.context())
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ONEDRIVE_FORBIDDEN' });
    expect((error as DestinationError).userMessage).toMatch(/Files\.ReadWrite\.All.*Sites\.ReadWrite\.All/);
  });
});

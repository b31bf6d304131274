import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FetchCurrentContext } from '../../contracts/ports.js';
import { AbortedError } from '../../shared/errors.js';
import { createSilentLogger } from '../../shared/logger.js';
import { createRedactor, type Redactor } from '../../shared/redact.js';
import type { GraphAuth } from './graph-auth.js';
import { createOneDriveDestination } from './onedrive-destination.js';
import type { CurrentFile, UnchangedFile } from '../../contracts/ports.js';

const GRAPH = 'https://graph.microsoft.com';
const DOWNLOAD_HOST = 'https://contoso-my.sharepoint.com';
const TOKEN = 'fake-access-token-for-graph';
const auth: GraphAuth = {
  tenantId: 't',
  clientId: 'c',
  authorityHost: 'https://login.microsoftonline.com',
  graphBaseUrl: `${GRAPH}/v1.0`,
  getAccessToken: () => Promise.resolve(TOKEN),
};
const ETAG = '"{5B2B0E3E-1111-2222-3333-444455556666},7"';
const ITEM = { id: 'ITEM', name: 'Sales.xlsx', size: 3_000, eTag: ETAG, file: {} };

describe('OneDrive fetchCurrent (Graph and the download host mocked with nock)', () => {
  let dir: string;
  let tempDir: string;
  let redactor: Redactor;
  beforeAll(async () => {
    nock.disableNetConnect();
    dir = await mkdtemp(join(tmpdir(), 'onedrive-fetch-'));
  });
  beforeEach(async () => {
    tempDir = await mkdtemp(join(dir, 'run-'));
    redactor = createRedactor();
  });
  afterEach(() => nock.cleanAll());
  afterAll(async () => {
    nock.enableNetConnect();
    await rm(dir, { recursive: true, force: true });
  });

  const ctx = (maxBytes = 10_000): FetchCurrentContext => ({
    logger: createSilentLogger(),
    signal: new AbortController().signal,
    tempDir,
    maxBytes,
  });

  const destination = () =>
    createOneDriveDestination(
      {
        tenantId: 't',
        clientId: 'c',
        credential: { clientSecret: 'unused-secret' },
        authorityHost: auth.authorityHost,
        graphBaseUrl: auth.graphBaseUrl,
        drive: { driveId: 'b!x' },
        path: 'Reports/Sales.xlsx',
        retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1, maxTotalMs: 10_000 },
      },
      {
        logger: createSilentLogger(),
        redactor,
        clock: { now: () => new Date() },
        sleep: () => Promise.resolve(),
        auth,
      },
    );

  /** The drive and the item lookup, as Graph answers them with the bearer token. */
  function lookups(item: Record<string, unknown> | undefined): nock.Scope {
    const scope = nock(GRAPH, { reqheaders: { authorization: `Bearer ${TOKEN}` } })
      .get('/v1.0/drives/b!x')
      .reply(200, { id: 'b!x' });
    if (item === undefined) {
      return scope.get('/v1.0/drives/b!x/root:/Reports/Sales.xlsx:').reply(404, { error: { code: 'itemNotFound' } });
    }
    return scope.get('/v1.0/drives/b!x/root:/Reports/Sales.xlsx:').reply(200, item);
  }

  /** `GET …/content` answering 302 to a pre-authenticated URL on another host. */
  function redirect(token: string): nock.Scope {
    return nock(GRAPH, { reqheaders: { authorization: `Bearer ${TOKEN}` } })
      .get('/v1.0/drives/b!x/items/ITEM/content')
      .reply(302, undefined, { location: `${DOWNLOAD_HOST}/dl/secret-${token}` });
  }

  /** The download host, which must never see the bearer token. */
  function download(token: string): nock.Interceptor {
    return nock(DOWNLOAD_HOST, { badheaders: ['authorization'] }).get(`/dl/secret-${token}`);
  }

  it('follows the 302 without the Authorization header and streams the bytes into tempDir, with the eTag read first', async () => {
    const bytes = randomBytes(3_000);
    lookups(ITEM);
    redirect('T1');
    const served = download('T1').reply(200, bytes, { 'content-length': '3000' });
    const current = downloaded(await destination().fetchCurrent(ctx()));
    expect(served.isDone()).toBe(true);
    expect(current).toMatchObject({ bytes: 3_000, version: ETAG, location: 'drive b!x/Reports/Sales.xlsx' });
    expect(current?.path.startsWith(tempDir)).toBe(true);
    expect((await readFile(current?.path ?? '')).equals(bytes)).toBe(true);
    // The team's workbook, downloaded: pipeline data, this user only (whatever the umask).
    expect((await stat(current?.path ?? '')).mode & 0o777).toBe(0o600);
    // The pre-authenticated URL is a credential (here one no generic pattern knows): never in a log line or error.
    expect(redactor.redact(`GET ${DOWNLOAD_HOST}/dl/secret-T1 failed`)).not.toContain('secret-T1');
  });

  it('answers undefined when no file is at the path, without downloading', async () => {
    const scope = lookups(undefined);
    expect(await destination().fetchCurrent(ctx())).toBeUndefined();
    expect(scope.isDone()).toBe(true);
  });

  it('refuses a file over maxBytes before any download, naming the file, its size, the cap and the setting', async () => {
    lookups(ITEM);
    const content = redirect('T0');
    const error = await destination()
      .fetchCurrent(ctx(2_999))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'DESTINATION_TOO_LARGE',
      details: { bytes: 3_000, maxBytes: 2_999, setting: 'destination.update.maxBytes' },
    });
    const message = (error as Error).message;
    expect(message).toContain("'drive b!x/Reports/Sales.xlsx'");
    expect(message).toContain('3000 bytes');
    expect(message).toContain('2999 bytes');
    expect((error as { hint?: string }).hint).toContain('destination.update.maxBytes');
    expect(content.isDone()).toBe(false);
    expect(await readdir(tempDir)).toEqual([]);
  });

  it('stops a download that grows past maxBytes (no Content-Length) and removes the partial file', async () => {
    lookups({ ...ITEM, size: 1_000 });
    redirect('T2');
    // A chunked body: the cap is enforced while the bytes arrive, not only against the size Graph reported.
    download('T2').reply(200, () => Readable.from([randomBytes(4_000), randomBytes(4_000)]));
    await expect(destination().fetchCurrent(ctx(5_000))).rejects.toMatchObject({ code: 'DESTINATION_TOO_LARGE' });
    expect(await readdir(tempDir)).toEqual([]);
  });

  it('retries a failed download with a fresh URL from Graph, leaving no partial file behind', async () => {
    const bytes = randomBytes(3_000);
    lookups(ITEM);
    redirect('T3');
    download('T3').reply(503, 'busy');
    redirect('T4');
    download('T4').reply(200, bytes, { 'content-length': '3000' });
    const current = downloaded(await destination().fetchCurrent(ctx()));
    expect((await readFile(current?.path ?? '')).equals(bytes)).toBe(true);
    expect(await readdir(tempDir)).toEqual([current?.path.slice(tempDir.length + 1)]);
  });

  it('treats a body shorter than its Content-Length as a failed attempt, never as the workbook', async () => {
    const bytes = randomBytes(3_000);
    lookups(ITEM);
    redirect('T5');
    download('T5').reply(200, bytes.subarray(0, 1_000), { 'content-length': '3000' });
    redirect('T6');
    download('T6').reply(200, bytes, { 'content-length': '3000' });
    const current = downloaded(await destination().fetchCurrent(ctx()));
    expect(current?.bytes).toBe(3_000);
    expect((await readFile(current?.path ?? '')).equals(bytes)).toBe(true);
  });

  it('refuses to follow a redirect to a plain-http URL', async () => {
    lookups(ITEM);
    nock(GRAPH)
      .get('/v1.0/drives/b!x/items/ITEM/content')
      .reply(302, undefined, { location: 'http://contoso-my.sharepoint.com/download?tempauth=T7' });
    await expect(destination().fetchCurrent(ctx())).rejects.toMatchObject({
      code: 'ONEDRIVE_UNEXPECTED_RESPONSE',
      message: expect.stringContaining('not https'),
    });
    expect(await readdir(tempDir)).toEqual([]);
  });

  it('answers undefined when the item was deleted between the lookup and the download', async () => {
    lookups(ITEM);
    nock(GRAPH)
      .get('/v1.0/drives/b!x/items/ITEM/content')
      .reply(404, { error: { code: 'itemNotFound' } });
    expect(await destination().fetchCurrent(ctx())).toBeUndefined();
    expect(await readdir(tempDir)).toEqual([]);
  });

  it('refuses a path that is a folder', async () => {
    lookups({ id: 'F', name: 'Sales.xlsx', folder: {} });
    await expect(destination().fetchCurrent(ctx())).rejects.toMatchObject({ code: 'ONEDRIVE_INVALID_PATH' });
  });
  it('stops with AbortedError when the run is aborted mid-download, leaving no partial file', async () => {
    const controller = new AbortController();
    lookups(ITEM);
    redirect('T8');
    download('T8').reply(200, () => {
      // The run is cancelled while the body is arriving.
      const body = Readable.from(
        (async function* () {
          yield randomBytes(1_000);
          controller.abort(new Error('shutdown'));
          await new Promise((r) => setTimeout(r, 20));
          yield randomBytes(1_000);
        })(),
      );
      return body;
    });
    const error = await destination()
      .fetchCurrent({ ...ctx(), signal: controller.signal })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortedError);
    expect(await readdir(tempDir)).toEqual([]);
  });
});

/** The downloaded copy: these tests pass no data hash, so the answer is never "unchanged". */
function downloaded(found: CurrentFile | UnchangedFile | undefined): CurrentFile | undefined {
  if (found !== undefined && 'unchanged' in found) throw new Error('fetchCurrent answered unchanged');
  return found;
}

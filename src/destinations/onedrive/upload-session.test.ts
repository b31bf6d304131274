import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSilentLogger } from '../../shared/logger.js';
import { createRedactor } from '../../shared/redact.js';
import type { RetryPolicy } from '../../shared/retry.js';
import type { GraphApi, GraphCall } from './graph-api.js';
import type { HttpRequest, HttpResponse, HttpTransport } from './https-transport.js';
import {
  alignChunkSize,
  MAX_FRAGMENT_BYTES,
  UPLOAD_FRAGMENT_UNIT,
  uploadFileInSession,
  type SessionUploadRequest,
} from './upload-session.js';
import { sitePath } from './drive-target.js';

describe('alignChunkSize', () => {
  it.each([
    [1, UPLOAD_FRAGMENT_UNIT],
    [UPLOAD_FRAGMENT_UNIT, UPLOAD_FRAGMENT_UNIT],
    [400 * 1024, UPLOAD_FRAGMENT_UNIT],
    [10 * 1024 * 1024, 32 * UPLOAD_FRAGMENT_UNIT],
    [60 * 1024 * 1024, 191 * UPLOAD_FRAGMENT_UNIT],
    [1024 ** 3, 191 * UPLOAD_FRAGMENT_UNIT],
  ])('%i bytes → %i', (requested, expected) => {
    const size = alignChunkSize(requested);
    expect(size).toBe(expected);
    expect(size % UPLOAD_FRAGMENT_UNIT).toBe(0);
    expect(size).toBeLessThan(MAX_FRAGMENT_BYTES);
  });
});

describe('sitePath', () => {
  it.each([
    ['contoso.sharepoint.com:/sites/Sales', '/sites/contoso.sharepoint.com:/sites/Sales'],
    ['contoso.sharepoint.com:/sites/Sales Team/', '/sites/contoso.sharepoint.com:/sites/Sales%20Team'],
    ['contoso.sharepoint.com', '/sites/contoso.sharepoint.com'],
  ])('%s → %s', (site, path) => {
    expect(sitePath(site)).toBe(path);
  });

  it('refuses a URL instead of host:/path', () => {
    expect(() => sitePath('https://contoso.sharepoint.com/sites/Sales')).toThrow(
      expect.objectContaining({ code: 'ONEDRIVE_INVALID_SITE' }),
    );
  });
});

/**
 * The session loop against a scripted upload URL: `answer` sees each request (PUT fragment, GET status, DELETE) and
 * the byte range the fake server holds; the clock advances by `putMs` per fragment and by every sleep.
 */
describe('uploadFileInSession (scripted upload URL)', () => {
  const UNIT = UPLOAD_FRAGMENT_UNIT;
  const UPLOAD_URL =
    'https://contoso-my.sharepoint.com/personal/ops/_api/v2.0/drives/b/items/p/uploadSession?guid=1&tempauth=secret';
  let dir: string;
  let filePath: string;
  const FRAGMENTS = 4;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'upload-session-'));
    filePath = join(dir, 'file.bin');
    await writeFile(filePath, Buffer.alloc(FRAGMENTS * UNIT, 7));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const json = (status: number, body: unknown): HttpResponse => ({
    status,
    headers: {},
    body: Buffer.from(JSON.stringify(body)),
  });
  const item = { id: 'ITEM1', name: 'File.xlsx', size: FRAGMENTS * UNIT };

  function run(
    answer: (req: HttpRequest, state: { stored: number; puts: number }) => HttpResponse | Error,
    retry: RetryPolicy,
    putMs = 0,
    conditions: Pick<SessionUploadRequest, 'ifMatch' | 'ifAbsent' | 'onProgress'> = {},
  ) {
    let now = Date.parse('2026-11-27T06:00:00Z');
    const sleeps: number[] = [];
    const state = { stored: 0, puts: 0 };
    const controller = new AbortController();
    const transport: HttpTransport = {
      prepare: () => Promise.resolve(),
      request: (req) => {
        if (req.method === 'PUT') {
          state.puts++;
          now += putMs;
          // A loop that never ends would hang the test: cut it off and let the assertion show it.
          if (state.puts > 200) controller.abort(new Error('test: runaway upload loop'));
        }
        const out = answer(req, state);
        return out instanceof Error ? Promise.reject(out) : Promise.resolve(out);
      },
      stream: () => Promise.reject(new Error('test: no streamed request expected')),
    };
    const sessionCalls: GraphCall<unknown>[] = [];
    const graph: GraphApi = {
      call: ((call: GraphCall<unknown>) => {
        sessionCalls.push(call);
        return Promise.resolve({ uploadUrl: UPLOAD_URL });
      }) as GraphApi['call'],
      redirectLocation: () => Promise.reject(new Error('test: no download expected')),
    };
    const redactor = createRedactor();
    const added: [string | undefined, unknown][] = [];
    const addSecret = redactor.addSecret;
    redactor.addSecret = (value, options) => {
      added.push([value, options]);
      addSecret(value, options);
    };
    const promise = uploadFileInSession(
      {
        driveId: 'b',
        parentId: 'p',
        name: 'File.xlsx',
        label: 'ops/File.xlsx',
        filePath,
        fileSize: FRAGMENTS * UNIT,
        chunkBytes: UNIT,
        signal: controller.signal,
        ...conditions,
      },
      {
        graph,
        transport,
        logger: createSilentLogger(),
        redactor,
        clock: { now: () => new Date(now) },
        sleep: (ms) => {
          sleeps.push(ms);
          now += ms;
          return Promise.resolve();
        },
        random: () => 0.5,
        retry,
      },
    );
    return { promise, sleeps, state, added, sessionCalls };
  }

  /** A well-behaved server: stores each fragment in order, 202 with the next range, 201 with the item at the end. */
  function store(req: HttpRequest, state: { stored: number }): HttpResponse {
    if (req.method === 'GET') return json(200, { nextExpectedRanges: [`${state.stored}-`] });
    if (req.method === 'DELETE') return json(204, {});
    const range = /bytes (\d+)-(\d+)\//.exec(req.headers?.['content-range'] ?? '');
    if (Number(range?.[1]) !== state.stored) return json(416, { error: { code: 'invalidRange' } });
    state.stored = Number(range?.[2]) + 1;
    return state.stored >= FRAGMENTS * UNIT ? json(201, item) : json(202, { nextExpectedRanges: [`${state.stored}-`] });
  }

  it('tells how many bytes the session accepted after each fragment', async () => {
    const seen: [number, number][] = [];
    const { promise } = run(store, { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 10, maxTotalMs: 1000 }, 0, {
      onProgress: (sent, total) => seen.push([sent, total]),
    });
    await promise;
    const total = FRAGMENTS * UNIT;
    expect(seen).toEqual([
      [UNIT, total],
      [2 * UNIT, total],
      [3 * UNIT, total],
      [total, total],
    ]);
  });

  it('counts the retry time budget from the first failure of the streak, not from the start of the upload', async () => {
    // Each fragment takes 4 s and the budget is 10 s: by the third fragment the upload has run longer than the
    // budget, yet its one transient 503 must still be retried.
    let failed = false;
    const { promise, sleeps, added } = run(
      (req, state) => {
        if (req.method === 'PUT' && state.stored === 2 * UNIT && !failed) {
          failed = true;
          return json(503, { error: { code: 'serviceNotAvailable' } });
        }
        return store(req, state);
      },
      { maxAttempts: 6, baseDelayMs: 1_000, maxDelayMs: 8_000, maxTotalMs: 10_000 },
      4_000,
    );
    await expect(promise).resolves.toMatchObject({ id: 'ITEM1' });
    expect(sleeps).toEqual([750]);
    // The upload URL embeds a credential that dies with the session: a transient secret.
    expect(added).toEqual([[UPLOAD_URL, { transient: true }]]);
  });

  it('still gives up when one failure streak outlasts the budget', async () => {
    const { promise } = run(
      (req, state) => (req.method === 'PUT' && state.stored === UNIT ? json(503, {}) : store(req, state)),
      { maxAttempts: 50, baseDelayMs: 1_000, maxDelayMs: 8_000, maxTotalMs: 10_000 },
      4_000,
    );
    await expect(promise).rejects.toMatchObject({ code: 'ONEDRIVE_UPLOAD_FAILED', retryable: true });
  });

  it('ends a session that keeps answering 202 without advancing (always ["0-"]) after maxAttempts, with backoff', async () => {
    const { promise, sleeps, state } = run(
      (req) =>
        req.method === 'DELETE'
          ? json(204, {})
          : req.method === 'GET'
            ? json(200, { nextExpectedRanges: ['0-'] })
            : json(202, { nextExpectedRanges: ['0-'] }),
      { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1_000, maxTotalMs: 600_000 },
    );
    const error = await promise.catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'ONEDRIVE_UPLOAD_FAILED',
      message: expect.stringContaining('still expects byte 0'),
    });
    // Four PUTs of bytes 0-327679, none of which moves the session on.
    expect(state.puts).toBe(4);
    expect(sleeps).toEqual([75, 150, 300]);
    expect((error as Error).message).not.toContain('tempauth');
  });

  it('counts a fragment stored before the connection dropped as progress, ending the failure streak', async () => {
    // The server stores every fragment but the connection drops before the answer: with 2 attempts per streak the
    // upload must still finish, since each retry finds the fragment stored.
    const { promise } = run(
      (req, state) => {
        const out = store(req, state);
        if (req.method === 'PUT' && out.status === 202)
          return Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
        return out;
      },
      { maxAttempts: 2, baseDelayMs: 100, maxDelayMs: 1_000, maxTotalMs: 600_000 },
    );
    await expect(promise).resolves.toMatchObject({ id: 'ITEM1' });
  });

  it('fails at once on a certificate error instead of retrying it', async () => {
    const { promise, sleeps } = run(
      (req, state) =>
        req.method === 'PUT'
          ? Object.assign(new Error('certificate is not yet valid'), { code: 'CERT_NOT_YET_VALID' })
          : store(req, state),
      { maxAttempts: 6, baseDelayMs: 100, maxDelayMs: 1_000, maxTotalMs: 600_000 },
    );
    await expect(promise).rejects.toMatchObject({
      code: 'ONEDRIVE_NETWORK',
      retryable: false,
      hint: expect.stringContaining('onedrive.caFile'),
    });
    expect(sleeps).toEqual([]);
  });
  it('sends If-Match as a header of createUploadSession (Graph checks it there), with conflictBehavior replace', async () => {
    const { promise, sessionCalls } = run(
      store,
      { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1, maxTotalMs: 1_000 },
      0,
      {
        ifMatch: '"{ABC},3"',
      },
    );
    await expect(promise).resolves.toMatchObject({ id: 'ITEM1' });
    expect(sessionCalls).toHaveLength(1);
    expect(sessionCalls[0]?.headers).toEqual({ 'If-Match': '"{ABC},3"' });
    expect(sessionCalls[0]?.body).toMatchObject({ item: { '@microsoft.graph.conflictBehavior': 'replace' } });
  });

  it('creates only (conflictBehavior fail) and does not start over on a 409 at commit under ifAbsent', async () => {
    const { promise, sessionCalls, state } = run(
      (req, st) => {
        const out = store(req, st);
        return out.status === 201 ? json(409, { error: { code: 'nameAlreadyExists' } }) : out;
      },
      { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1, maxTotalMs: 1_000 },
      0,
      { ifAbsent: true },
    );
    await expect(promise).rejects.toMatchObject({ status: 409, graphCodes: ['nameAlreadyExists'] });
    expect(sessionCalls).toHaveLength(1);
    expect(sessionCalls[0]?.headers).toBeUndefined();
    expect(sessionCalls[0]?.body).toMatchObject({ item: { '@microsoft.graph.conflictBehavior': 'fail' } });
    expect(state.puts).toBe(FRAGMENTS);
  });
});

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FinishedFile } from '../../contracts/ports.js';
import { createSilentLogger } from '../../shared/logger.js';
import { createRedactor } from '../../shared/redact.js';
import { createDriveTarget, planDriveTarget } from './drive-target.js';
import type { GraphApi, GraphCall } from './graph-api.js';
import { GraphRequestError } from './graph-errors.js';
import type { HttpTransport } from './https-transport.js';
import { createWorkbookUpload } from './workbook-upload.js';

function notFound(): GraphRequestError {
  return new GraphRequestError('ONEDRIVE_DRIVE_NOT_FOUND', 'not found', {
    status: 404,
    graphCodes: ['itemNotFound'],
    retryAfterMs: undefined,
    requestId: undefined,
    clientRequestId: undefined,
  });
}

/** A Graph that knows drive b!x and folder Reports (id F1, then F2 once the first one vanished). */
function fakeGraph(putFailures: number) {
  const calls: string[] = [];
  let folder = 'F1';
  let failures = putFailures;
  const graph: GraphApi = {
    call<T>(call: GraphCall<T>): Promise<T> {
      calls.push(`${call.method} ${call.path}`);
      const answer = (body: unknown): Promise<T> => Promise.resolve(call.schema.parse(body));
      if (call.path === '/drives/b!x') return answer({ id: 'b!x' });
      if (call.path === '/drives/b!x/root:/Reports:') return answer({ id: folder, name: 'Reports', folder: {} });
      if (call.method === 'PUT' && failures > 0) {
        failures -= 1;
        folder = 'F2';
        return Promise.reject(notFound());
      }
      return answer({ id: 'ITEM', name: 'Sales.xlsx', size: 10 });
    },
    redirectLocation: () => Promise.reject(new Error('test: no download expected')),
  };
  return { graph, calls };
}

describe('createWorkbookUpload', () => {
  let dir: string;
  let file: FinishedFile;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'workbook-upload-'));
    file = { path: join(dir, 'Sales.xlsx'), bytes: 10, suggestedName: 'Sales.xlsx' };
    await writeFile(file.path, Buffer.alloc(10, 1));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const upload = (graph: GraphApi) =>
    createWorkbookUpload(
      createDriveTarget(planDriveTarget({ driveId: 'b!x' }, 'Reports/Sales.xlsx'), graph),
      {
        thresholdBytes: 100,
        chunkBytes: 327_680,
        retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1, maxTotalMs: 1 },
      },
      {
        graph,
        transport: {} as HttpTransport,
        logger: createSilentLogger(),
        redactor: createRedactor(),
        clock: { now: () => new Date() },
        sleep: () => Promise.resolve(),
      },
    );

  it('sends a small file in one PUT with conflictBehavior replace, resolving drive and folder once', async () => {
    const g = fakeGraph(0);
    const send = upload(g.graph);
    await send(file, 'Sales.xlsx', new AbortController().signal);
    await send(file, 'Sales.xlsx', new AbortController().signal);
    expect(g.calls).toEqual([
      'GET /drives/b!x',
      'GET /drives/b!x/root:/Reports:',
      'PUT /drives/b!x/items/F1:/Sales.xlsx:/content?@microsoft.graph.conflictBehavior=replace',
      'PUT /drives/b!x/items/F1:/Sales.xlsx:/content?@microsoft.graph.conflictBehavior=replace',
    ]);
  });

  it('re-resolves the parent folder once when it vanished since it was cached', async () => {
    const g = fakeGraph(1);
    const item = await upload(g.graph)(file, 'Sales.xlsx', new AbortController().signal);
    expect(item.id).toBe('ITEM');
    expect(g.calls.slice(2)).toEqual([
      'PUT /drives/b!x/items/F1:/Sales.xlsx:/content?@microsoft.graph.conflictBehavior=replace',
      'GET /drives/b!x/root:/Reports:',
      'PUT /drives/b!x/items/F2:/Sales.xlsx:/content?@microsoft.graph.conflictBehavior=replace',
    ]);
  });

  it('gives up when the upload answers 404 again after re-resolving', async () => {
    const g = fakeGraph(2);
    await expect(upload(g.graph)(file, 'Sales.xlsx', new AbortController().signal)).rejects.toMatchObject({
      status: 404,
    });
  });
  /** A Graph whose PUT answers `status` (or the item), recording every call with its headers. */
  function conditionalGraph(status: number | undefined, codes: string[] = []) {
    const calls: GraphCall<unknown>[] = [];
    const graph: GraphApi = {
      call<T>(call: GraphCall<T>): Promise<T> {
        calls.push(call as GraphCall<unknown>);
        const answer = (body: unknown): Promise<T> => Promise.resolve(call.schema.parse(body));
        if (call.path === '/drives/b!x') return answer({ id: 'b!x' });
        if (call.path === '/drives/b!x/root:/Reports:') return answer({ id: 'F1', name: 'Reports', folder: {} });
        if (status !== undefined) {
          return Promise.reject(
            new GraphRequestError('ONEDRIVE_REQUEST_FAILED', `HTTP ${status}`, {
              status,
              graphCodes: codes,
              retryAfterMs: undefined,
              requestId: undefined,
              clientRequestId: undefined,
            }),
          );
        }
        return answer({ id: 'ITEM', name: 'Sales.xlsx', size: 10 });
      },
      redirectLocation: () => Promise.reject(new Error('test: no download expected')),
    };
    return { graph, puts: () => calls.filter((c) => c.method === 'PUT') };
  }

  it('sends If-Match on the PUT and turns a 412 into DESTINATION_CHANGED, without a second attempt', async () => {
    const g = conditionalGraph(412, ['preconditionFailed']);
    const error = await upload(g.graph)(file, 'Sales.xlsx', new AbortController().signal, { ifMatch: '"{E},4"' }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'DESTINATION_CHANGED', retryable: false, cause: { status: 412 } });
    expect((error as Error).message).toContain(
      "'drive b!x/Reports/Sales.xlsx' was saved by a teammate after this run read it",
    );
    expect(g.puts()).toHaveLength(1);
    expect(g.puts()[0]?.headers).toMatchObject({ 'If-Match': '"{E},4"' });
    expect(g.puts()[0]?.path).toMatch(/conflictBehavior=replace$/);
  });

  it('creates only with conflictBehavior fail, a 409 becoming DESTINATION_CHANGED', async () => {
    const g = conditionalGraph(409, ['nameAlreadyExists']);
    const error = await upload(g.graph)(file, 'Sales.xlsx', new AbortController().signal, { ifAbsent: true }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'DESTINATION_CHANGED', message: expect.stringContaining('a file appeared') });
    expect(g.puts()[0]?.path).toMatch(/conflictBehavior=fail$/);
    expect(g.puts()[0]?.headers).not.toHaveProperty('If-Match');
  });

  it('leaves a 412 or 409 without conditions as it is', async () => {
    const g = conditionalGraph(409, ['nameAlreadyExists']);
    await expect(upload(g.graph)(file, 'Sales.xlsx', new AbortController().signal)).rejects.toMatchObject({
      code: 'ONEDRIVE_REQUEST_FAILED',
      status: 409,
    });
  });

  it('under If-Match, a vanished folder is a change (the file read is gone), not a folder to recreate', async () => {
    const g = fakeGraph(1);
    const error = await upload(g.graph)(file, 'Sales.xlsx', new AbortController().signal, { ifMatch: '"{E},4"' }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'DESTINATION_CHANGED' });
    expect(g.calls.filter((c) => c.startsWith('PUT'))).toHaveLength(1);
    expect(g.calls.filter((c) => c === 'GET /drives/b!x/root:/Reports:')).toHaveLength(1);
  });
});

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
});

/** The Graph simulator enforces the protocol as Graph does, so the client tests above prove something. */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGraphAuth } from '../../src/destinations/onedrive/index.js';
import { createHttpsTransport, type HttpTransport } from '../../src/destinations/onedrive/https-transport.js';
import { createSilentLogger } from '../../src/shared/logger.js';
import { createRedactor } from '../../src/shared/redact.js';
import { startGraphSimulator, type GraphSimulator } from '../../src/simulators/graph/index.js';

const UNIT = 327_680;

describe('Graph simulator protocol checks', () => {
  let sim: GraphSimulator;
  let dir: string;
  let http: HttpTransport;
  let token: string;
  let driveId: string;
  const json = (b: Buffer): Record<string, unknown> => JSON.parse(b.toString('utf8')) as Record<string, unknown>;
  const graph = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown, auth = true) =>
    http.request({
      method,
      url: `${sim.graphBaseUrl}${path}`,
      headers: { ...(auth ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' },
      body: body === undefined ? undefined : Buffer.isBuffer(body) ? body : JSON.stringify(body),
    });
  const session = async (name: string, size: number): Promise<string> => {
    const res = await graph('POST', `/drives/${driveId}/root:/${encodeURIComponent(name)}:/createUploadSession`, {
      item: { '@microsoft.graph.conflictBehavior': 'replace', name, fileSize: size },
    });
    expect(res.status).toBe(200);
    return String(json(res.body)['uploadUrl']);
  };
  const put = (url: string, data: Buffer, start: number, total: number, headers: Record<string, string> = {}) =>
    http.request({
      method: 'PUT',
      url,
      body: data,
      headers: { 'content-range': `bytes ${start}-${start + data.length - 1}/${total}`, ...headers },
    });

  beforeAll(async () => {
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
    dir = await mkdtemp(join(tmpdir(), 'graph-sim-'));
    sim = await startGraphSimulator({
      storageDir: dir,
      tenantId: 't1',
      clients: [{ clientId: 'c1', clientSecret: 's3cret-value' }],
    });
    http = createHttpsTransport({ caFile: sim.caFile });
    token = await createGraphAuth(
      {
        tenantId: 't1',
        clientId: 'c1',
        credential: { clientSecret: 's3cret-value' },
        authorityHost: sim.authorityHost,
        graphBaseUrl: sim.graphBaseUrl,
        caFile: sim.caFile,
      },
      { logger: createSilentLogger(), redactor: createRedactor() },
    ).getAccessToken();
    driveId = sim.driveIdFor({ user: 'ops@contoso.com' });
  });
  afterAll(async () => {
    await sim.close();
    await rm(dir, { recursive: true, force: true });
    nock.enableNetConnect();
  });

  it('refuses Graph calls without a valid bearer token (401) and /me app-only (400)', async () => {
    expect((await graph('GET', `/drives/${driveId}`, undefined, false)).status).toBe(401);
    const me = await graph('GET', '/me/drive');
    expect(me.status).toBe(400);
    expect(JSON.stringify(json(me.body))).toContain('/me request is only valid with delegated authentication flow');
  });

  it('refuses an Authorization header on the upload URL (401)', async () => {
    const url = await session('auth.bin', 10);
    const res = await put(url, randomBytes(10), 0, 10, { authorization: `Bearer ${token}` });
    expect(res.status).toBe(401);
    expect(sim.stats.authorizationOnUploadUrl).toBe(1);
  });

  it('refuses fragments that are not a multiple of 320 KiB, except the last', async () => {
    const total = UNIT * 2 + 10;
    const url = await session('align.bin', total);
    expect((await put(url, randomBytes(UNIT + 1), 0, total)).status).toBe(400);
    expect((await put(url, randomBytes(UNIT), 0, total)).status).toBe(202);
    expect((await put(url, randomBytes(UNIT + 10), UNIT, total)).status).toBe(201);
  });

  it('answers 416 to overlapping or out-of-order fragments and reports nextExpectedRanges', async () => {
    const total = UNIT * 3;
    const url = await session('order.bin', total);
    expect((await put(url, randomBytes(UNIT), 0, total)).status).toBe(202);
    expect((await put(url, randomBytes(UNIT), 0, total)).status).toBe(416);
    expect((await put(url, randomBytes(UNIT), UNIT * 2, total)).status).toBe(416);
    const status = await http.request({ method: 'GET', url });
    expect(json(status.body)['nextExpectedRanges']).toEqual([`${UNIT}-`]);
    expect((await http.request({ method: 'DELETE', url })).status).toBe(204);
    expect((await http.request({ method: 'GET', url })).status).toBe(404);
  });

  it('refuses a Content-Range whose total or length does not match', async () => {
    const url = await session('range.bin', 100);
    expect((await put(url, randomBytes(100), 0, 101)).status).toBe(400);
    const wrongLength = await http.request({
      method: 'PUT',
      url,
      body: randomBytes(50),
      headers: { 'content-range': 'bytes 0-99/100' },
    });
    expect(wrongLength.status).toBe(400);
  });

  it('keeps the previous version visible until the last byte commits, with the same item id', async () => {
    const v1 = randomBytes(1000);
    const created = await graph('PUT', `/drives/${driveId}/root:/commit.bin:/content`, v1);
    expect(created.status).toBe(201);
    const id = String(json(created.body)['id']);
    const v2 = randomBytes(UNIT + 5);
    const url = await session('commit.bin', v2.length);
    expect((await put(url, v2.subarray(0, UNIT), 0, v2.length)).status).toBe(202);
    expect((await sim.readFile(id))?.equals(v1)).toBe(true);
    const done = await put(url, v2.subarray(UNIT), UNIT, v2.length);
    expect(done.status).toBe(200);
    expect(json(done.body)['id']).toBe(id);
    expect((await sim.readFile(id))?.equals(v2)).toBe(true);
    const versions = await graph('GET', `/drives/${driveId}/items/${id}/versions`);
    expect((json(versions.body)['value'] as unknown[]).length).toBe(2);
    expect(sim.itemInfo(id)?.localPath).toMatch(/commit\.bin$/);
  });

  it('answers 409 nameAlreadyExists when creating an existing folder with conflictBehavior fail', async () => {
    const body = { name: 'Twice', folder: {}, '@microsoft.graph.conflictBehavior': 'fail' };
    expect((await graph('POST', `/drives/${driveId}/root/children`, body)).status).toBe(201);
    const again = await graph('POST', `/drives/${driveId}/root/children`, body);
    expect(again.status).toBe(409);
    expect(JSON.stringify(json(again.body))).toContain('nameAlreadyExists');
  });
});

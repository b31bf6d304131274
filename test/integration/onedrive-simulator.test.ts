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
  /** A Graph call with extra headers (If-Match). */
  const graphWith = (method: 'PUT' | 'POST', path: string, body: unknown, headers: Record<string, string>) =>
    http.request({
      method,
      url: `${sim.graphBaseUrl}${path}`,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
      body: Buffer.isBuffer(body) ? body : JSON.stringify(body),
    });
  const eTagOf = (res: { body: Buffer }): string => String(json(res.body)['eTag']);

  it('answers GET …/content (by path and by id) with a 302 to a single-use URL that serves the bytes without a token', async () => {
    const data = randomBytes(50_000);
    const created = await graph('PUT', `/drives/${driveId}/root:/download.bin:/content`, data);
    expect(created.status).toBe(201);
    const id = String(json(created.body)['id']);
    for (const path of [`/drives/${driveId}/root:/download.bin:/content`, `/drives/${driveId}/items/${id}/content`]) {
      const redirect = await graph('GET', path);
      expect(redirect.status).toBe(302);
      const location = String(redirect.headers['location']);
      expect(location).toMatch(new RegExp(`^${sim.authorityHost}/download/[A-Za-z0-9_-]{20,}$`));
      const served = await http.request({ method: 'GET', url: location });
      expect(served.status).toBe(200);
      expect(served.body.equals(data)).toBe(true);
      // Single use: a retry must go back to Graph for a fresh URL.
      expect((await http.request({ method: 'GET', url: location })).status).toBe(401);
    }
    expect(sim.stats.authorizationOnDownloadUrl).toBe(0);
    expect(sim.stats.log.some((l) => /\/download\/[A-Za-z0-9]/.test(l.target))).toBe(false);
  });

  it('refuses a bearer token on the download URL (400) and counts the violation', async () => {
    await graph('PUT', `/drives/${driveId}/root:/leak.bin:/content`, randomBytes(10));
    const redirect = await graph('GET', `/drives/${driveId}/root:/leak.bin:/content`);
    const res = await http.request({
      method: 'GET',
      url: String(redirect.headers['location']),
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(400);
    expect(sim.stats.authorizationOnDownloadUrl).toBe(1);
    // A lock (open in Excel) blocks writes, not reads.
    sim.faults.lock('leak.bin', { attempts: 5 });
    expect((await graph('GET', `/drives/${driveId}/root:/leak.bin:/content`)).status).toBe(302);
    sim.faults.clear();
  });

  it('changes eTag and cTag at every save, by PUT and by a committed upload session', async () => {
    const path = `/drives/${driveId}/root:/tags.bin:/content`;
    const first = await graph('PUT', path, randomBytes(100));
    const second = await graph('PUT', path, randomBytes(100));
    const url = await session('tags.bin', 200);
    const third = await put(url, randomBytes(200), 0, 200);
    expect(third.status).toBe(200);
    const tags = [first, second, third].map((r) => [json(r.body)['eTag'], json(r.body)['cTag']]);
    expect(new Set(tags.map((t) => t[0])).size).toBe(3);
    expect(new Set(tags.map((t) => t[1])).size).toBe(3);
    expect(sim.itemInfo('tags.bin')?.eTag).toBe(tags[2]?.[0]);
  });

  it('evaluates If-Match on PUT content: the current eTag writes, a stale one gets 412 preconditionFailed', async () => {
    const path = `/drives/${driveId}/root:/match.bin:/content`;
    const v1 = await graph('PUT', path, randomBytes(100));
    const v2data = randomBytes(120);
    const v2 = await graphWith('PUT', path, v2data, { 'if-match': eTagOf(v1) });
    expect(v2.status).toBe(200);
    const stale = await graphWith('PUT', path, randomBytes(130), { 'if-match': eTagOf(v1) });
    expect(stale.status).toBe(412);
    expect(json(stale.body)['error']).toMatchObject({ code: 'preconditionFailed' });
    expect((await sim.readFile('match.bin'))?.equals(v2data)).toBe(true);
    // Graph refuses an unquoted entity tag; `*` matches any existing file, and no missing one.
    const unquoted = eTagOf(v2).replace(/"/g, '');
    expect((await graphWith('PUT', path, randomBytes(5), { 'if-match': unquoted })).status).toBe(400);
    expect((await graphWith('PUT', path, randomBytes(5), { 'if-match': '*' })).status).toBe(200);
    const missing = `/drives/${driveId}/root:/no-such.bin:/content`;
    expect((await graphWith('PUT', missing, randomBytes(5), { 'if-match': '*' })).status).toBe(412);
    expect(sim.itemInfo('no-such.bin')).toBeUndefined();
  });

  it('evaluates If-Match on createUploadSession, before any session exists', async () => {
    const path = `/drives/${driveId}/root:/session-match.bin:/content`;
    const v1 = await graph('PUT', path, randomBytes(100));
    await graph('PUT', path, randomBytes(100));
    const created = sim.stats.uploadSessionsCreated;
    const body = { item: { '@microsoft.graph.conflictBehavior': 'replace', name: 'session-match.bin', fileSize: 10 } };
    const sessionPath = `/drives/${driveId}/root:/session-match.bin:/createUploadSession`;
    const stale = await graphWith('POST', sessionPath, body, { 'if-match': eTagOf(v1) });
    expect(stale.status).toBe(412);
    expect(sim.stats.uploadSessionsCreated).toBe(created);
    const current = String(sim.itemInfo('session-match.bin')?.eTag);
    expect((await graphWith('POST', sessionPath, body, { 'if-match': current })).status).toBe(200);
  });

  it('answers 409 nameAlreadyExists to conflictBehavior fail on an existing file: PUT and createUploadSession', async () => {
    await graph('PUT', `/drives/${driveId}/root:/taken.bin:/content`, randomBytes(10));
    const put409 = await graph(
      'PUT',
      `/drives/${driveId}/root:/taken.bin:/content?@microsoft.graph.conflictBehavior=fail`,
      randomBytes(20),
    );
    expect(put409.status).toBe(409);
    expect(JSON.stringify(json(put409.body))).toContain('nameAlreadyExists');
    const session409 = await graph('POST', `/drives/${driveId}/root:/taken.bin:/createUploadSession`, {
      item: { '@microsoft.graph.conflictBehavior': 'fail', name: 'taken.bin', fileSize: 20 },
    });
    expect(session409.status).toBe(409);
    expect(sim.itemInfo('taken.bin')?.size).toBe(10);
  });

  it('lets a teammate save a new version just before the next upload, so a stale If-Match gets 412', async () => {
    const path = `/drives/${driveId}/root:/team.bin:/content`;
    const v1 = await graph('PUT', path, randomBytes(100));
    const theirs = randomBytes(333);
    sim.faults.teammateSavesBeforeNextUpload('ops@contoso.com/team.bin', theirs);
    const ours = await graphWith('PUT', path, randomBytes(100), { 'if-match': eTagOf(v1) });
    expect(ours.status).toBe(412);
    expect((await sim.readFile('team.bin'))?.equals(theirs)).toBe(true);
    expect(sim.itemInfo('team.bin')?.versions).toBe(2);
    expect(sim.faults.pendingTeammateSaves()).toEqual([]);
    expect(sim.stats.teammateSaves).toBe(1);
  });
});

import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../shared/logger.js';
import { createRedactor } from '../shared/redact.js';
import type { ExportControl } from '../contracts/export-control.js';
import { createAdminServer, type AdminServer } from './admin-server.js';

const ALICE = 'alice-token-0123456789abcdef';
const WRONG = 'wrong-token-0123456789abcdef';
const A = '203.0.113.7';
const B = '198.51.100.9';

const servers: AdminServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

function setup(failedLogins?: { limit: number; windowMs: number; maxBlockMs: number }) {
  let t = Date.parse('2026-06-01T10:00:00Z');
  const lines: Record<string, unknown>[] = [];
  const redactor = createRedactor();
  const logger = createLogger({
    redactor,
    level: 'debug',
    destination: new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    }),
  });
  const control: ExportControl = {
    list: async () => [],
    trigger: async () => ({ outcome: 'not-found' }),
    isReady: async () => true,
  };
  const server = createAdminServer({
    control,
    history: { getRun: async () => undefined, listRuns: async () => [], lastSuccess: async () => undefined },
    tokens: [{ name: 'alice', token: ALICE }],
    logger,
    clock: { now: () => new Date(t) },
    ...(failedLogins === undefined ? {} : { failedLogins }),
  });
  servers.push(server);
  const get = (url: string, from: string, token?: string) =>
    server.app.inject({
      url,
      remoteAddress: from,
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    });
  return { server, lines, get, advance: (ms: number) => (t += ms) };
}

describe('failed admin logins', () => {
  it('are logged with the remote address and the reason, never the presented token', async () => {
    const { lines, get, server } = setup();
    expect((await get('/api/exports?token=x', A, WRONG)).statusCode).toBe(401);
    await server.app.inject({ url: '/api/exports', remoteAddress: A, headers: { authorization: `Basic ${WRONG}` } });
    expect((await get('/api/exports', A)).statusCode).toBe(401); // no credentials: not a login, not logged
    expect((await get('/api/exports', A, ALICE)).statusCode).toBe(200);
    const failures = lines.filter((l) => String(l['msg']).startsWith('admin API login failed'));
    expect(failures.map((l) => [l['remoteAddress'], l['reason'], l['path']])).toEqual([
      [A, 'unknown token', '/api/exports'],
      [A, 'the Authorization header is not "Bearer <token>"', '/api/exports'],
    ]);
    expect(failures[0]?.['msg']).toBe(`admin API login failed from ${A}: unknown token (GET /api/exports)`);
    expect(JSON.stringify(lines)).not.toContain(WRONG);
    expect(JSON.stringify(lines)).not.toContain(ALICE);
  });

  it('block an address after 10 in a minute: 429 with Retry-After for its next guesses, a good token still admitted', async () => {
    const { lines, get, advance } = setup();
    for (let i = 0; i < 10; i++) {
      expect((await get('/api/exports', A, `${WRONG}${i}`)).statusCode).toBe(401);
      advance(1_000);
    }
    const blocked = await get('/api/exports', A, `${WRONG}x`);
    expect(blocked.statusCode).toBe(429);
    expect(blocked.headers['retry-after']).toBe('59');
    // A valid token is not a guess: admitted, so bad tokens from a shared (proxy) address cannot lock admins out.
    expect((await get('/api/exports', A, ALICE)).statusCode).toBe(200);
    expect(blocked.json()).toEqual({
      error: { code: 'TOO_MANY_FAILED_LOGINS', message: 'too many failed logins from this address; try again in 59 s' },
    });
    // Public paths stay open; another address is not affected, and a success does not unblock the first.
    expect((await get('/healthz', A)).statusCode).toBe(200);
    expect((await get('/api/exports', B, WRONG)).statusCode).toBe(401);
    expect((await get('/api/exports', A, WRONG)).statusCode).toBe(429);
    expect(lines.some((l) => l['msg'] === `admin API logins from ${A} refused for 60 s after 10 failures`)).toBe(true);

    advance(59_000);
    expect((await get('/api/exports', A, WRONG)).statusCode).toBe(401);
    // The next block is twice as long.
    for (let i = 0; i < 9; i++) await get('/api/exports', A, WRONG);
    expect((await get('/api/exports', A, WRONG)).headers['retry-after']).toBe('120');
  });

  it('follow server.failedLogins', async () => {
    const { get } = setup({ limit: 3, windowMs: 10_000, maxBlockMs: 10_000 });
    for (let i = 0; i < 3; i++) await get('/api/exports', A, WRONG);
    const blocked = await get('/api/exports', A, WRONG);
    expect([blocked.statusCode, blocked.headers['retry-after']]).toEqual([429, '10']);
  });
});

describe('router errors (frameworkErrors)', () => {
  it.each([
    ['a bad percent-encoding', '/api/runs/%E0%A4%A', 400, 'FST_ERR_BAD_URL'],
    ['an id longer than the router allows', `/api/runs/${'r'.repeat(150)}`, 414, 'FST_ERR_MAX_PARAM_LENGTH'],
  ])('answer %s with the same 401 before auth, and in the usual shape after it', async (_n, url, status, code) => {
    const { get } = setup();
    const anonymous = await get(url, A);
    const wrong = await get(url, A, WRONG);
    const missing = await get('/api/runs/no-such-run', A, WRONG);
    for (const res of [anonymous, wrong]) {
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
      expect(res.body).toBe(missing.body);
    }
    const known = await get(url, A, ALICE);
    expect(known.statusCode).toBe(status);
    expect(known.json()).toEqual({ error: { code, message: expect.any(String) } });
  });
});

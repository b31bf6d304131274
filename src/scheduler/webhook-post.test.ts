import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSimulatorTls, type SimulatorTls } from '../simulators/tls.js';
import { AppError } from '../shared/errors.js';
import { createHttpsWebhookPost, type ResolveHost } from './webhook-post.js';

let dir: string;
let tls: SimulatorTls;
let server: Server;
let port: number;
let status = 200;
const received: { url: string; type: string; body: unknown }[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'webhook-post-'));
  tls = await createSimulatorTls(dir, ['hook.test', 'chat.example.com']);
  server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    let text = '';
    req.on('data', (d: Buffer) => (text += d.toString()));
    req.on('end', () => {
      received.push({ url: req.url ?? '', type: req.headers['content-type'] ?? '', body: JSON.parse(text) });
      res.writeHead(status).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
beforeEach(() => {
  received.length = 0;
  status = 200;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});

/** A resolver that answers `addresses` for every name, counting its calls. */
function resolverOf(...addresses: string[]): ResolveHost & { calls: string[] } {
  const calls: string[] = [];
  const resolve = async (host: string) => {
    calls.push(host);
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(resolve, { calls });
}

async function failure(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  }
  throw new Error('expected a failure');
}

describe('createHttpsWebhookPost', () => {
  it('posts JSON over https to an allowed private target, trusting notify.caFile', async () => {
    const post = createHttpsWebhookPost();
    await post(
      { url: `https://127.0.0.1:${port}/hooks/abc?sig=1`, allowPrivate: true, caFile: tls.caFile },
      { text: 'hello' },
    );
    expect(received).toEqual([
      { url: '/hooks/abc?sig=1', type: 'application/json; charset=utf-8', body: { text: 'hello' } },
    ]);
  });

  it.each([
    ['http', `http://127.0.0.1:1/hooks/secret-path`, /must use https/],
    ['a loopback literal', `https://127.0.0.1:1/hooks/secret-path`, /points at a loopback address/],
    ['localhost', `https://localhost:1/hooks/secret-path`, /points at localhost/],
    ['an IPv4-mapped IPv6 literal', `https://[::ffff:127.0.0.1]:1/hooks/secret-path`, /loopback address/],
  ])('refuses %s before connecting, without quoting the URL', async (_name, url, message) => {
    const resolve = resolverOf('127.0.0.1');
    const err = await failure(createHttpsWebhookPost({ resolve })({ url, allowPrivate: false }, {}));
    expect(err.code).toBe('WEBHOOK_REFUSED');
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(message);
    expect(err.message).not.toContain('secret-path');
    expect(resolve.calls).toEqual([]);
  });

  it.each([
    ['a loopback address', ['127.0.0.1'], /resolves to a loopback address \(127\.0\.0\.1\)/],
    ['a link-local address (cloud metadata)', ['169.254.169.254'], /link-local address/],
    ['a public and a private address', ['52.96.1.1', '10.0.0.5'], /private address \(10\.0\.0\.5\)/],
    ['an IPv4-mapped loopback', ['::ffff:127.0.0.1'], /loopback address/],
  ])('refuses a host name that resolves to %s at send time; nothing is sent', async (_name, addresses, message) => {
    const resolve = resolverOf(...addresses);
    const post = createHttpsWebhookPost({ resolve });
    const err = await failure(
      post({ url: `https://chat.example.com:${port}/hooks/secret-path`, allowPrivate: false, caFile: tls.caFile }, {}),
    );
    expect(err.code).toBe('WEBHOOK_REFUSED');
    expect(err.message).toMatch(message);
    expect(err.message).toMatch(/allowPrivate: true/);
    expect(err.message).not.toContain('secret-path');
    expect(resolve.calls).toEqual(['chat.example.com']);
    expect(received).toEqual([]);
  });

  it('resolves once per message and connects to the address it resolved (no second lookup to rebind)', async () => {
    const resolve = resolverOf('127.0.0.1');
    const post = createHttpsWebhookPost({ resolve });
    const target = { url: `https://hook.test:${port}/hooks/x`, allowPrivate: true, caFile: tls.caFile };
    await post(target, { n: 1 });
    await post(target, { n: 2 });
    expect(resolve.calls).toEqual(['hook.test', 'hook.test']);
    expect(received.map((r) => r.body)).toEqual([{ n: 1 }, { n: 2 }]);
  });

  it('tells a retryable answer from a final one, and an untrusted certificate from a network blip', async () => {
    const post = createHttpsWebhookPost();
    const target = { url: `https://127.0.0.1:${port}/hooks/x`, allowPrivate: true, caFile: tls.caFile };
    status = 503;
    expect(await failure(post(target, {}))).toMatchObject({ code: 'WEBHOOK_HTTP', retryable: true });
    status = 404;
    expect(await failure(post(target, {}))).toMatchObject({ code: 'WEBHOOK_HTTP', retryable: false });
    const untrusted = await failure(post({ ...target, caFile: undefined }, {}));
    expect(untrusted).toMatchObject({ code: 'WEBHOOK_UNREACHABLE', retryable: false });
    expect(untrusted.message).toMatch(/certificate is not trusted: set notify\.caFile/);
    const closed = await failure(post({ ...target, url: 'https://127.0.0.1:1/x' }, {}));
    expect(closed).toMatchObject({ code: 'WEBHOOK_UNREACHABLE', retryable: true });
  });
});

import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createSilentLogger } from '../../shared/logger.js';
import { createGraphApi } from './graph-api.js';
import type { GraphAuth } from './graph-auth.js';
import type { HttpRequest, HttpTransport } from './https-transport.js';

const auth: GraphAuth = {
  tenantId: 't',
  clientId: 'c',
  authorityHost: 'https://login.microsoftonline.com',
  graphBaseUrl: 'https://graph.microsoft.com/v1.0',
  getAccessToken: () => Promise.resolve('fake-access-token'),
};

/** A Graph call whose transport always fails below HTTP with `failure`; returns the error and the request count. */
async function callFailingWith(failure: Error): Promise<{ error: unknown; requests: number; sleeps: number[] }> {
  const seen: HttpRequest[] = [];
  const transport: HttpTransport = {
    prepare: () => Promise.resolve(),
    request: (req) => {
      seen.push(req);
      return Promise.reject(failure);
    },
    stream: () => Promise.reject(new Error('test: no streamed request expected')),
  };
  const sleeps: number[] = [];
  const graph = createGraphApi({
    auth,
    transport,
    logger: createSilentLogger(),
    clock: { now: () => new Date() },
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
    random: () => 0.5,
    retry: { maxAttempts: 4, baseDelayMs: 10, maxDelayMs: 100, maxTotalMs: 60_000 },
  });
  const error = await graph
    .call({ operation: "find drive 'ops'", method: 'GET', path: '/drives/b', schema: z.object({ id: z.string() }) })
    .catch((e: unknown) => e);
  return { error, requests: seen.length, sleeps };
}

describe('createGraphApi: failures without an HTTP response (through the graph client)', () => {
  it('retries a connection reset up to maxAttempts', async () => {
    const { error, requests } = await callFailingWith(
      Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
    );
    expect(error).toMatchObject({ code: 'ONEDRIVE_NETWORK', retryable: true });
    expect(requests).toBe(4);
  });

  it.each([
    ['CERT_NOT_YET_VALID', 'certificate is not yet valid'],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate'],
  ])('fails at once on %s with the caFile hint', async (code, message) => {
    const { error, requests, sleeps } = await callFailingWith(Object.assign(new Error(message), { code }));
    expect(error).toMatchObject({
      code: 'ONEDRIVE_NETWORK',
      retryable: false,
      hint: expect.stringContaining('onedrive.caFile'),
    });
    expect(requests).toBe(1);
    expect(sleeps).toEqual([]);
  });

  it('does not retry an unknown failure', async () => {
    const { error, requests } = await callFailingWith(
      Object.assign(new Error('Invalid URL'), { code: 'ERR_INVALID_URL' }),
    );
    expect(error).toMatchObject({ code: 'ONEDRIVE_NETWORK', retryable: false });
    expect(requests).toBe(1);
  });
});

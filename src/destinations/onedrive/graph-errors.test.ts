import { describe, expect, it } from 'vitest';
import { AbortedError } from '../../shared/errors.js';
import { graphErrorFromResponse, graphNetworkError, parseGraphErrorBody } from './graph-errors.js';

const now = new Date('2026-11-27T06:00:00Z');

describe('Graph error mapping', () => {
  it('walks the innerError chain and reads request ids', () => {
    const body = {
      error: {
        code: 'notAllowed',
        message: 'The resource you are attempting to access is locked',
        innerError: {
          code: 'resourceLocked',
          innerError: { code: 'lockMismatch' },
          'request-id': 'r-1',
          'client-request-id': 'c-1',
        },
      },
    };
    expect(parseGraphErrorBody(JSON.stringify(body))).toEqual({
      codes: ['notAllowed', 'resourceLocked', 'lockMismatch'],
      message: 'The resource you are attempting to access is locked',
      requestId: 'r-1',
      clientRequestId: 'c-1',
    });
    // The graph client hands us only the inner `error` object, stringified.
    expect(parseGraphErrorBody(JSON.stringify(body.error)).codes).toEqual([
      'notAllowed',
      'resourceLocked',
      'lockMismatch',
    ]);
    expect(parseGraphErrorBody('<html>oops</html>').codes).toEqual([]);
  });

  it.each([
    [401, 'ONEDRIVE_UNAUTHORIZED', false],
    [403, 'ONEDRIVE_FORBIDDEN', false],
    [404, 'ONEDRIVE_NOT_FOUND', false],
    [409, 'ONEDRIVE_CONFLICT', false],
    [416, 'ONEDRIVE_RANGE_NOT_SATISFIABLE', false],
    [423, 'ONEDRIVE_LOCKED', false],
    [429, 'ONEDRIVE_THROTTLED', true],
    [500, 'ONEDRIVE_SERVER_ERROR', true],
    [503, 'ONEDRIVE_THROTTLED', true],
    [507, 'ONEDRIVE_QUOTA_EXCEEDED', false],
    [400, 'ONEDRIVE_REQUEST_FAILED', false],
  ])('HTTP %i → %s (retryable %s)', (status, code, retryable) => {
    const e = graphErrorFromResponse('upload x', status, { 'request-id': 'req-9' }, '{}', now);
    expect(e).toMatchObject({ code, retryable, status, requestId: 'req-9' });
    expect(e.message).toContain(`HTTP ${status}`);
    expect(e.message).toContain('request-id req-9');
  });

  it('names the permissions on 403 and the fix on 507', () => {
    expect(graphErrorFromResponse('upload', 403, undefined, undefined, now).hint).toMatch(
      /Files\.ReadWrite\.All.*Sites\.ReadWrite\.All/,
    );
    expect(graphErrorFromResponse('upload', 507, undefined, undefined, now).hint).toContain('out of storage');
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(graphErrorFromResponse('x', 429, { 'retry-after': '12' }, '', now).retryAfterMs).toBe(12_000);
    const headers = new Headers({ 'retry-after': 'Fri, 27 Nov 2026 06:00:30 GMT' });
    expect(graphErrorFromResponse('x', 503, headers, '', now).retryAfterMs).toBe(30_000);
  });

  it('maps network failures, TLS failures and aborts', () => {
    expect(graphNetworkError('x', new Error('socket hang up'))).toMatchObject({
      code: 'ONEDRIVE_NETWORK',
      retryable: true,
      status: 0,
    });
    expect(graphNetworkError('x', new Error('self-signed certificate in certificate chain'))).toMatchObject({
      retryable: false,
      hint: expect.stringContaining('caFile'),
    });
    expect(
      graphNetworkError('x', Object.assign(new Error('no response within 120000 ms'), { code: 'ETIMEDOUT' })),
    ).toMatchObject({ retryable: true });
    // The graph client re-wraps transport errors and keeps only the text: "Error: read ECONNRESET".
    expect(graphNetworkError('x', new Error('Error: read ECONNRESET'))).toMatchObject({ retryable: true });
    const c = new AbortController();
    c.abort();
    expect(graphNetworkError('x', new Error('aborted'), c.signal)).toBeInstanceOf(AbortedError);
  });

  it.each([
    ['CERT_NOT_YET_VALID', 'certificate is not yet valid'],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate'],
    ['CERT_HAS_EXPIRED', 'certificate has expired'],
  ])('fails at once on the certificate error %s, pointing at caFile', (code, message) => {
    const e = graphNetworkError('x', Object.assign(new Error(message), { code }));
    expect(e).toMatchObject({
      code: 'ONEDRIVE_NETWORK',
      retryable: false,
      hint: expect.stringContaining('onedrive.caFile'),
    });
  });

  it.each([
    ['ERR_INVALID_URL', 'Invalid URL'],
    ['ENOTFOUND', 'getaddrinfo ENOTFOUND graph.microsoft.con'],
    [undefined, 'an error nobody anticipated'],
  ])('does not retry the unknown or permanent failure %s', (code, message) => {
    const e = graphNetworkError(
      'x',
      code === undefined ? new Error(message) : Object.assign(new Error(message), { code }),
    );
    expect(e).toMatchObject({
      code: 'ONEDRIVE_NETWORK',
      retryable: false,
      hint: expect.stringContaining('graphBaseUrl'),
    });
  });
});

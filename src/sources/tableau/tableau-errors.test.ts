import { describe, expect, it } from 'vitest';
import { SourceError } from '../../shared/errors.js';
import { errorFromTransport, type ErrorContext } from './tableau-errors.js';

const ctx: ErrorContext = {
  what: 'read server info from https://tableau.example.com',
  site: 'sales',
  credentialsHint: 'check the PAT',
};
const failure = (message: string, code?: string): Error =>
  code === undefined ? new Error(message) : Object.assign(new Error(message), { code });

describe('errorFromTransport', () => {
  it.each([
    ['ECONNRESET', 'read ECONNRESET'],
    ['ETIMEDOUT', 'connect ETIMEDOUT 10.0.0.1:443'],
    ['ECONNABORTED', 'timeout of 0ms exceeded'],
    ['EAI_AGAIN', 'getaddrinfo EAI_AGAIN tableau.example.com'],
    ['ECONNREFUSED', 'connect ECONNREFUSED 10.0.0.1:443'],
    ['EPIPE', 'write EPIPE'],
    ['ENETUNREACH', 'connect ENETUNREACH 10.0.0.1:443'],
    ['EHOSTUNREACH', 'connect EHOSTUNREACH 10.0.0.1:443'],
    [undefined, 'socket hang up'],
  ])('retries the transient network failure %s', (code, message) => {
    expect(errorFromTransport(failure(message, code), ctx)).toMatchObject({ code: 'TABLEAU_NETWORK', retryable: true });
  });

  it.each([
    ['CERT_NOT_YET_VALID', 'certificate is not yet valid'],
    ['CERT_HAS_EXPIRED', 'certificate has expired'],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate'],
    ['SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in certificate chain'],
    ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'unable to get local issuer certificate'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames"],
  ])('fails at once on the certificate error %s, with the caFile hint', (code, message) => {
    const e = errorFromTransport(failure(message, code), ctx);
    expect(e).toMatchObject({ code: 'TABLEAU_TLS', retryable: false, details: { errno: code } });
    expect(e.hint).toContain('tableau.caFile');
  });

  it.each([
    ['ERR_INVALID_URL', 'Invalid URL'],
    [undefined, 'something nobody anticipated'],
    ['ERR_SSL_WRONG_VERSION_NUMBER', 'wrong version number'],
    ['ENOTFOUND', 'getaddrinfo ENOTFOUND tableau.example.con'],
  ])('does not retry the unknown or permanent failure %s', (code, message) => {
    const e = errorFromTransport(failure(message, code), ctx);
    expect(e).toMatchObject({ code: 'TABLEAU_NETWORK', retryable: false });
    expect(e.hint).toContain('tableau.serverUrl');
  });

  it('reads the code through an axios-style cause chain', () => {
    const inner = failure('read ECONNRESET', 'ECONNRESET');
    const outer = Object.assign(new Error('read ECONNRESET', { cause: inner }), { code: 'ERR_BAD_RESPONSE' });
    expect(errorFromTransport(outer, ctx)).toMatchObject({ retryable: true, details: { errno: 'ECONNRESET' } });
  });

  it('passes our own retryable timeout and truncation errors through unchanged', () => {
    const ours = new SourceError('TABLEAU_TRUNCATED', 'cut short', { retryable: true });
    expect(errorFromTransport(ours, ctx)).toBe(ours);
  });
});
